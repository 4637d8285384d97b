package io.capstan.transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;

/**
 * Carries one request to a peer and brings back its answer: a {@code POST} of the request
 * bytes on the member's one {@link HttpClient}, which keeps a persistent HTTP/2 connection per
 * peer (h2c, or h2 over TLS) and multiplexes concurrent requests over it. Every call ends by its
 * deadline, answered or failed, even when the peer never answers or a fault drops it.
 *
 * <p>Failures reach the caller as the {@link IOException}s Ratis's retry logic understands:
 * {@link TimeoutIOException} for a missed deadline, {@link ServerNotReadyException} for a 503
 * (the peer's web layer or Raft server is not up yet; retry), the peer's own exception when
 * Ratis failed the request there, the HTTP client's own {@code ConnectException} when nothing
 * listens.
 *
 * <p>Thread-safety: immutable; calls may come from any thread. Completion runs on the HTTP
 * client's executor or on the timer thread, so callers chain only non-blocking work.
 */
final class PeerCarrier {

    private static final int ERROR_SNIPPET_CHARS = 300;

    private final HttpClient http;
    private final String scheme;
    private final PeerAuthenticator authenticator;
    private final PeerFaults faults;
    private final ScheduledExecutorService timer;
    private final long maxReplyBytes;

    /** @param scheme {@code https} when {@code http} speaks TLS to peers, else {@code http} */
    PeerCarrier(HttpClient http, String scheme, PeerAuthenticator authenticator, PeerFaults faults,
                ScheduledExecutorService timer, long maxReplyBytes) {
        this.http = http;
        this.scheme = scheme;
        this.authenticator = authenticator;
        this.faults = faults;
        this.timer = timer;
        this.maxReplyBytes = maxReplyBytes;
    }

    /** The scheme of peers' base URIs: {@code https} or {@code http}. */
    String scheme() {
        return scheme;
    }

    /**
     * Sends {@code body} to {@code peer}'s {@code operation} endpoint under {@code base}.
     *
     * @return the reply body; completes within {@code timeout}
     */
    CompletableFuture<byte[]> call(RaftPeerId peer, URI base, Operation operation, byte[] body, Duration timeout) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        URI uri = base.resolve(operation.path());
        try {
            ScheduledFuture<?> deadline = timer.schedule(() -> result.completeExceptionally(new TimeoutIOException(
                    "no answer from " + peer + " to " + operation.path() + " within " + timeout)),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
            result.whenComplete((reply, error) -> deadline.cancel(false));
            PeerFaults.Fault fault = faults.faultFor(peer);
            if (fault.drop()) {
                faults.recordDrop();
            } else if (!fault.delay().isZero()) {
                timer.schedule(() -> send(peer, uri, body, timeout, result), fault.delay().toNanos(),
                        TimeUnit.NANOSECONDS);
            } else {
                send(peer, uri, body, timeout, result);
            }
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new AlreadyClosedException("peer transport is closed", e));
        }
        return result;
    }

    private void send(RaftPeerId peer, URI uri, byte[] body, Duration timeout, CompletableFuture<byte[]> result) {
        if (result.isDone()) {
            return;
        }
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header(PeerAuthenticator.HEADER_NAME, authenticator.headerValue())
                .header("Content-Type", PeerWire.REPLY_TYPE)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        CompletableFuture<HttpResponse<byte[]>> exchange;
        try {
            exchange = http.sendAsync(request, LimitedBodySubscriber.handler(maxReplyBytes));
        } catch (RuntimeException e) {
            result.completeExceptionally(new IOException("cannot send to " + peer + " at " + uri, e));
            return;
        }
        // A deadline that fires first aborts the HTTP exchange too.
        result.whenComplete((reply, error) -> exchange.cancel(true));
        exchange.whenComplete((response, error) -> {
            if (error != null) {
                result.completeExceptionally(transportFailure(peer, uri, PeerWire.unwrap(error)));
            } else {
                complete(peer, uri, response, result);
            }
        });
    }

    private static void complete(RaftPeerId peer, URI uri, HttpResponse<byte[]> response,
                                 CompletableFuture<byte[]> result) {
        int status = response.statusCode();
        String type = mediaType(response);
        if (status == 200 && type.equals(PeerWire.REPLY_TYPE)) {
            result.complete(response.body());
        } else if (status == 200 && type.equals(PeerWire.ERROR_TYPE)) {
            result.completeExceptionally(PeerWire.decodeError(response.body(), peer.toString()));
        } else if (status == 503) {
            result.completeExceptionally(new ServerNotReadyException(
                    peer + " is not ready for " + uri.getPath() + ": " + snippet(response.body())));
        } else if (status == 401) {
            result.completeExceptionally(new IOException(
                    peer + " refused this member's cluster secret (HTTP 401); the members' secrets differ"));
        } else {
            result.completeExceptionally(new IOException(
                    peer + " answered HTTP " + status + " to " + uri.getPath() + ": " + snippet(response.body())));
        }
    }

    private static IOException transportFailure(RaftPeerId peer, URI uri, Throwable error) {
        if (error instanceof HttpTimeoutException timeout) {
            return new TimeoutIOException("no answer from " + peer + " at " + uri + ": " + timeout.getMessage(),
                    timeout);
        }
        if (error instanceof IOException io) {
            return io;
        }
        return new IOException("request to " + peer + " at " + uri + " failed: " + error, error);
    }

    /**
     * Waits for a call made through this carrier, for Ratis's blocking protocol methods. Needs
     * no timeout of its own: every call completes by its deadline.
     */
    static <T> T await(CompletableFuture<T> call) throws IOException {
        try {
            return call.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            InterruptedIOException interrupted = new InterruptedIOException("interrupted waiting for a peer");
            interrupted.initCause(e);
            throw interrupted;
        } catch (ExecutionException e) {
            Throwable cause = PeerWire.unwrap(e);
            throw cause instanceof IOException io ? io : new IOException(cause.toString(), cause);
        }
    }

    private static String mediaType(HttpResponse<?> response) {
        String type = response.headers().firstValue("Content-Type").orElse("");
        int parameters = type.indexOf(';');
        return (parameters < 0 ? type : type.substring(0, parameters)).trim();
    }

    private static String snippet(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        return text.length() <= ERROR_SNIPPET_CHARS ? text : text.substring(0, ERROR_SNIPPET_CHARS) + "...";
    }
}
