package io.capstan.transport;

import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * One message on a peer channel: a request, or the answer to one, in a WebSocket binary message.
 *
 * <pre>
 *   byte  kind         1 request, 2 reply, 3 failure
 *   long  id           chosen by the sender of the request; the answer carries it back
 *   byte  operation    {@link Operation#code()} (requests; 0 in answers)
 *   bytes payload      the request or reply proto's bytes, or a failure's ThrowableProto
 * </pre>
 *
 * Numbers are big-endian. Immutable; the payload array is owned by the frame once built.
 *
 * @param kind what the frame is
 * @param id the request's id, shared by its answer
 * @param operation the operation of a request, or null in an answer
 * @param payload the bytes after the header
 */
record PeerFrame(Kind kind, long id, Operation operation, byte[] payload) {

    /** Bytes before the payload. */
    static final int HEADER_BYTES = 1 + 8 + 1;

    enum Kind {
        REQUEST(1),
        REPLY(2),
        FAILURE(3);

        private final byte code;

        Kind(int code) {
            this.code = (byte) code;
        }

        static Kind of(byte code) throws MalformedFrameException {
            for (Kind kind : values()) {
                if (kind.code == code) {
                    return kind;
                }
            }
            throw new MalformedFrameException("unknown frame kind " + code);
        }
    }

    /** A frame that does not decode; the peer that sent it does not speak this protocol. */
    static final class MalformedFrameException extends Exception {
        MalformedFrameException(String message) {
            super(message);
        }
    }

    static PeerFrame request(long id, Operation operation, byte[] payload) {
        return new PeerFrame(Kind.REQUEST, id, operation, payload);
    }

    static PeerFrame reply(long id, byte[] payload) {
        return new PeerFrame(Kind.REPLY, id, null, payload);
    }

    static PeerFrame failure(long id, byte[] throwable) {
        return new PeerFrame(Kind.FAILURE, id, null, throwable);
    }

    /**
     * Sends this frame on {@code channel}, one frame at a time per channel (its lock) so that
     * messages never interleave; {@code onError} runs when it cannot be sent.
     */
    void sendOn(WebSocketChannel channel, Consumer<Throwable> onError) {
        ByteBuffer bytes = encode();
        synchronized (channel) {
            WebSockets.sendBinary(
                    bytes,
                    channel,
                    new WebSocketCallback<Void>() {
                        @Override
                        public void complete(WebSocketChannel channel, Void context) {}

                        @Override
                        public void onError(
                                WebSocketChannel channel, Void context, Throwable throwable) {
                            onError.accept(throwable);
                        }
                    });
        }
    }

    /** The frame's bytes, ready to send. */
    ByteBuffer encode() {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + payload.length);
        buffer.put(kind.code)
                .putLong(id)
                .put(operation == null ? 0 : operation.code())
                .put(payload);
        return buffer.flip();
    }

    /**
     * Reads a received message; the payload is copied out, so {@code message} may be released.
     *
     * @throws MalformedFrameException when the header is short or names an unknown kind or
     *     operation
     */
    static PeerFrame decode(ByteBuffer[] message) throws MalformedFrameException {
        return decode(message.length == 1 ? message[0] : WebSockets.mergeBuffers(message));
    }

    /** As {@link #decode(ByteBuffer[])}, for a message in one buffer. */
    static PeerFrame decode(ByteBuffer message) throws MalformedFrameException {
        if (message.remaining() < HEADER_BYTES) {
            throw new MalformedFrameException(
                    "a frame of " + message.remaining() + " bytes is shorter than its header");
        }
        Kind kind = Kind.of(message.get());
        long id = message.getLong();
        byte operationCode = message.get();
        Operation operation = null;
        if (kind == Kind.REQUEST) {
            operation = Operation.of(operationCode);
            if (operation == null) {
                throw new MalformedFrameException("unknown operation " + operationCode);
            }
        }
        byte[] payload = new byte[message.remaining()];
        message.get(payload);
        return new PeerFrame(kind, id, operation, payload);
    }
}
