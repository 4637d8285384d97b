package io.capstan.transport;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.proto.RaftProtos.ThrowableProto;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.ratis.util.ReflectionUtils;

/**
 * How an answer travels back to the caller. A reply is {@code 200} with
 * {@value #REPLY_TYPE} and the reply proto's bytes. A failure Ratis raised while handling a
 * well-formed request is {@code 200} with {@value #ERROR_TYPE} and a {@link ThrowableProto}:
 * the RPC completed, its outcome is an exception (as gRPC answers HTTP 200 with a non-OK
 * status). Anything else is an HTTP-level refusal with a JSON body: 400 malformed, 401 bad
 * secret, 413 too large, 503 not ready yet.
 *
 * <p>A throwable crosses the wire as its class name and message only. The receiver rebuilds
 * it when the class is a Ratis or JDK {@link IOException} with a message constructor, so
 * Ratis's retry logic sees the type it expects; it never deserialises Java objects from a
 * peer. Stateless.
 */
final class PeerWire {

    static final String REPLY_TYPE = "application/x-protobuf";
    static final String ERROR_TYPE = "application/vnd.capstan.ratis-throwable+protobuf";

    private PeerWire() {
    }

    static byte[] encodeError(Throwable error) {
        Throwable t = unwrap(error);
        return ThrowableProto.newBuilder()
                .setClassName(t.getClass().getName())
                .setErrorMessage(Objects.toString(t.getMessage(), ""))
                .build()
                .toByteArray();
    }

    /** The exception a peer reported, as close to its own type as is safe to rebuild. */
    static IOException decodeError(byte[] body, String peer) {
        ThrowableProto proto;
        try {
            proto = ThrowableProto.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            return new IOException(peer + " answered with a malformed error body", e);
        }
        String className = proto.getClassName();
        String message = proto.getErrorMessage();
        if (className.startsWith("org.apache.ratis.") || className.startsWith("java.")) {
            try {
                Class<? extends IOException> type = Class.forName(className, false, PeerWire.class.getClassLoader())
                        .asSubclass(IOException.class);
                return ReflectionUtils.instantiateException(type, message);
            } catch (Exception | LinkageError notRebuildable) {
                // Not an IOException, or no message constructor: report it by name below.
            }
        }
        return new IOException(peer + " failed the request: " + className + ": " + message);
    }

    /** The cause a future or a wrapper carries. */
    static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
