package io.capstan.transport;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.proto.RaftProtos.ThrowableProto;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.ratis.util.ReflectionUtils;

/**
 * How a failure travels back to the caller: a failure frame ({@link PeerFrame.Kind#FAILURE}) whose
 * payload is a {@link ThrowableProto}, for an exception Ratis raised while handling a request as
 * for a request the receiving member refused (malformed, too large, no Raft server).
 *
 * <p>A throwable crosses the wire as its class name and message only. The receiver rebuilds it when
 * the class is a Ratis or JDK {@link IOException} with a message constructor, so Ratis's retry
 * logic sees the type it expects; it never deserialises Java objects from a peer. Stateless.
 */
final class PeerWire {

    private PeerWire() {}

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
                Class<? extends IOException> type =
                        Class.forName(className, false, PeerWire.class.getClassLoader())
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
        while ((t instanceof CompletionException || t instanceof ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
