package io.capstan.transport;

import io.capstan.web.JsonResponses;
import io.capstan.web.RequestBodies;
import io.capstan.web.RequestContext;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one operation on the web port and hands it to the bound Ratis server.
 *
 * <p>Steps, each ending the request when it fails: the peer must prove membership (401 JSON,
 * checked on headers before any byte of the body is read); a Raft server must be bound (503 JSON
 * with {@code Retry-After}); the body is read without blocking (the web layer enforces the
 * route's size limit); the rest moves to the transport's inbound executor, where the body is
 * decoded (400 JSON when malformed) and the server called. The reply, or the exception Ratis
 * raised, is written from whichever thread completes Ratis's future (see {@link PeerWire}).
 * A server that reports {@link ServerNotReadyException} also gets 503, so callers retry.
 *
 * <p>Threading: starts on an Undertow I/O thread and never blocks it; immutable, shared by
 * every request of its operation. The request's id stays in the MDC on every thread it visits.
 */
final class PeerRouteHandler implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(PeerRouteHandler.class);
    static final String UNAUTHORIZED = "unauthorized";

    private final Operation operation;
    private final InboundCalls.InboundCall<?> call;
    private final PeerAuthenticator authenticator;
    private final InboundBinding binding;
    private final Executor executor;

    PeerRouteHandler(Operation operation, InboundCalls.InboundCall<?> call, PeerAuthenticator authenticator,
                     InboundBinding binding, Executor executor) {
        this.operation = operation;
        this.call = call;
        this.authenticator = authenticator;
        this.binding = binding;
        this.executor = executor;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (!authenticator.admits(exchange)) {
            LOG.debug("refused {} from {}: no valid cluster secret", operation.path(), exchange.getSourceAddress());
            // The unread body is not worth draining for a caller that is not a member.
            exchange.setPersistent(false);
            JsonResponses.sendError(exchange, 401, UNAUTHORIZED, "peer requests must carry the cluster secret in the "
                    + PeerAuthenticator.HEADER_NAME + " header");
            return;
        }
        if (binding.server() == null) {
            notReady(exchange, "the Raft server of this member is not started");
            return;
        }
        RequestContext context = RequestContext.of(exchange);
        // Dispatching marks the exchange as continued elsewhere, so Undertow does not end it
        // when the callback returns; the hand-over to the executor runs right after, on this thread.
        RequestBodies.readFully(exchange, (ex, body) -> ex.dispatch(SameThreadExecutor.INSTANCE, () -> {
            try {
                executor.execute(context.wrap(() -> handle(ex, context, body)));
            } catch (RejectedExecutionException e) {
                notReady(ex, "the peer transport is saturated or closed");
            }
        }));
    }

    /** Runs on the inbound executor. */
    private void handle(HttpServerExchange exchange, RequestContext context, byte[] body) {
        InboundCalls.Prepared prepared;
        try {
            prepared = call.prepare(body);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            JsonResponses.sendError(exchange, 400, JsonResponses.BAD_REQUEST,
                    "malformed " + operation.path() + " request: " + e.getMessage());
            return;
        }
        RaftServer server = binding.server();
        if (server == null) {
            notReady(exchange, "the Raft server of this member is not started");
            return;
        }
        binding.countHandedToRatis();
        CompletableFuture<byte[]> reply;
        try {
            reply = prepared.invoke(server);
        } catch (IOException | RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((bytes, error) -> context.run(() -> respond(exchange, bytes, error)));
    }

    private void respond(HttpServerExchange exchange, byte[] reply, Throwable error) {
        if (error == null) {
            send(exchange, PeerWire.REPLY_TYPE, reply);
            return;
        }
        Throwable cause = PeerWire.unwrap(error);
        if (cause instanceof ServerNotReadyException) {
            notReady(exchange, cause.getMessage());
            return;
        }
        if (cause instanceof IOException) {
            LOG.debug("{} failed in Ratis: {}", operation.path(), cause.toString());
        } else {
            LOG.warn("{} failed in Ratis", operation.path(), cause);
        }
        send(exchange, PeerWire.ERROR_TYPE, PeerWire.encodeError(cause));
    }

    private static void send(HttpServerExchange exchange, String contentType, byte[] body) {
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, contentType);
        exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }

    private static void notReady(HttpServerExchange exchange, String message) {
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
        JsonResponses.sendError(exchange, 503, JsonResponses.UNAVAILABLE, message, Map.of("component", "raft"));
    }
}
