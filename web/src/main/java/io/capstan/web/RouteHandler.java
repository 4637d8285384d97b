package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.util.Map;

/**
 * Admission for one route, in order: the owner's gate (503 + Retry-After while closed), the
 * declared body size (413 before any byte of the body is read), the body limit for bodies without a
 * length (a {@link BodyLimitConduit} fails the read that passes it), then a permit of the route's
 * admission budget (none for exempt routes), then the route's handler. Immutable.
 */
final class RouteHandler implements HttpHandler {

    /** The name of the gate of the route a request matched, for its access log line. */
    static final AttachmentKey<String> OWNER = AttachmentKey.create(String.class);

    private final Gate gate;
    private final long maxBodyBytes;
    private final ExchangeAdmission admission;
    private final HttpHandler handler;

    /**
     * @param admission the route's budget, or null for an exempt route (health probes, peer
     *     messages)
     */
    RouteHandler(Route route, long defaultMaxBodyBytes, ExchangeAdmission admission) {
        this.gate = route.owner();
        this.maxBodyBytes = route.maxBodyBytes() > 0 ? route.maxBodyBytes() : defaultMaxBodyBytes;
        this.admission = admission;
        this.handler = new ContextualHandler(route.handler());
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        exchange.putAttachment(OWNER, gate.name());
        if (!gate.isOpen()) {
            JsonResponses.sendRetryLater(
                    exchange,
                    503,
                    JsonResponses.UNAVAILABLE,
                    gate.name() + " is not ready",
                    Map.of("component", gate.name()));
            return;
        }
        String declared = exchange.getRequestHeaders().getFirst(Headers.CONTENT_LENGTH);
        if (declared != null) {
            long length = declaredLength(declared);
            if (length > maxBodyBytes) {
                refuseDeclared(exchange, length);
                JsonResponses.sendError(
                        exchange,
                        413,
                        JsonResponses.PAYLOAD_TOO_LARGE,
                        "request body of "
                                + declared
                                + " bytes exceeds the limit of "
                                + maxBodyBytes
                                + " bytes");
                return;
            }
            // Replaces the server-wide default, which may be below this route's own limit.
            exchange.setMaxEntitySize(maxBodyBytes);
        } else {
            // 0 turns Undertow's check off: it would drop the connection without an answer.
            exchange.setMaxEntitySize(0);
            exchange.addRequestWrapper(
                    (factory, ex) -> new BodyLimitConduit(factory.create(), ex, maxBodyBytes));
        }
        if (admission == null) {
            handler.handleRequest(exchange);
        } else {
            admission.handle(exchange, handler);
        }
    }

    /**
     * Prepares the end of a request refused by its declared length, answered before any byte of its
     * body is read. Closing the connection on unread bytes makes TCP reset it, and a client still
     * sending the body (one that does not wait on {@code Expect: 100-continue}) then loses the 413
     * in the reset. So a body at most twice the limit stays on a persistent connection, where
     * Undertow reads and discards it after the answer (never holding it); a larger one is not worth
     * the reading, and the connection closes after the 413.
     */
    private void refuseDeclared(HttpServerExchange exchange, long length) {
        if (length - maxBodyBytes <= maxBodyBytes) {
            exchange.setMaxEntitySize(length);
        } else {
            exchange.setPersistent(false);
        }
    }

    // Undertow has validated the header by now; a length beyond long is still too large.
    private static long declaredLength(String header) {
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
