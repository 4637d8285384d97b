package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.transport.TestCluster.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A peer channel opened by hand with the JDK's WebSocket client, not the transport's: frames (or
 * any bytes) sent as given, answers queued as they arrive. Answers are queued by the client's
 * listener thread and taken by the test thread.
 */
final class RawPeerChannel implements WebSocket.Listener, AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(20);

    /** How long a channel that the member closed is watched for an answer that must not come. */
    private static final Duration NO_ANSWER = Duration.ofSeconds(1);

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(WAIT).build();

    private final BlockingQueue<PeerFrame> answers = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();

    /** Touched only by the listener's calls, which the client makes one at a time. */
    private ByteBuffer partial = ByteBuffer.allocate(0);

    private WebSocket socket;

    /** The peer channel's URI on {@code node}; {@code scheme} is {@code ws} or {@code http}. */
    static URI uri(Node node, String scheme) {
        return URI.create(scheme + "://127.0.0.1:" + node.address().getPort() + PeerChannels.PATH);
    }

    /**
     * The status {@code node} refuses a WebSocket handshake with; {@code secret} (base64) goes in
     * the peer secret header unless null. Fails when the handshake succeeds.
     */
    static int refusedHandshake(Node node, String secret) {
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(WAIT);
        if (secret != null) {
            builder.header(PeerAuthenticator.HEADER_NAME, secret);
        }
        ExecutionException refused =
                assertThrows(
                        ExecutionException.class,
                        () ->
                                builder.buildAsync(uri(node, "ws"), new WebSocket.Listener() {})
                                        .get(WAIT.toSeconds(), TimeUnit.SECONDS)
                                        .abort());
        return assertInstanceOf(WebSocketHandshakeException.class, refused.getCause())
                .getResponse()
                .statusCode();
    }

    /** Opens a channel to {@code node} with {@code secret} (base64) in the peer secret header. */
    static RawPeerChannel open(Node node, String secret) throws Exception {
        RawPeerChannel channel = new RawPeerChannel();
        channel.socket =
                HTTP.newWebSocketBuilder()
                        .header(PeerAuthenticator.HEADER_NAME, secret)
                        .buildAsync(uri(node, "ws"), channel)
                        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return channel;
    }

    void send(PeerFrame frame) {
        sendBytes(frame.encode());
    }

    /** Sends {@code bytes} as one binary message, whatever they are. */
    void sendBytes(ByteBuffer bytes) {
        socket.sendBinary(bytes, true).join();
    }

    /**
     * Sends {@code request} and returns the next answer; fails when none comes within {@link
     * #WAIT}.
     */
    PeerFrame call(PeerFrame request) throws Exception {
        send(request);
        return next();
    }

    /** The next answer; fails when none comes within {@link #WAIT}. */
    PeerFrame next() throws InterruptedException {
        PeerFrame answer = answers.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (answer == null) {
            throw new AssertionError("no answer within " + WAIT);
        }
        return answer;
    }

    /**
     * Waits for the member to close the channel; fails when it stays open longer than {@link
     * #WAIT}.
     */
    void awaitClosed() throws Exception {
        try {
            closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | CompletionException e) {
            // Closed by an abort rather than a close frame: closed all the same.
        } catch (TimeoutException e) {
            throw new AssertionError("the channel is still open after " + WAIT, e);
        }
    }

    /**
     * Checks that the member no longer serves this channel: a request sent on it is never answered
     * (or cannot be sent). Quicker to observe than the close itself, which the JDK's client may
     * report late or not at all when the member ends the connection without a close handshake.
     */
    void assertNoLongerAnswers() throws InterruptedException {
        try {
            socket.sendBinary(
                            PeerFrame.request(Long.MIN_VALUE, Operation.GROUP_LIST, new byte[0])
                                    .encode(),
                            true)
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return;
        }
        // Answers to requests sent before the probe (ordered client requests are answered late)
        // say nothing about the channel now; only an answer to the probe does.
        long deadline = System.nanoTime() + NO_ANSWER.toNanos();
        for (long left = NO_ANSWER.toNanos(); left > 0; left = deadline - System.nanoTime()) {
            PeerFrame answer = answers.poll(left, TimeUnit.NANOSECONDS);
            if (answer != null && answer.id() == Long.MIN_VALUE) {
                throw new AssertionError(
                        "the channel still answers: " + answer.kind() + " to " + answer.id());
            }
        }
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        ByteBuffer joined = ByteBuffer.allocate(partial.remaining() + data.remaining());
        joined.put(partial).put(data).flip();
        partial = joined;
        if (last) {
            try {
                answers.add(PeerFrame.decode(partial));
            } catch (PeerFrame.MalformedFrameException e) {
                throw new AssertionError(e);
            }
            partial = ByteBuffer.allocate(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }

    @Override
    public void close() {
        socket.abort();
    }
}
