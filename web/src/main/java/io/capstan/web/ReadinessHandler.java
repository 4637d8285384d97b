package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.function.Supplier;

/**
 * {@code GET /health/ready}: 200 when the supplied {@link Readiness} is ready, else 503; the
 * body is its details as JSON. The supplier is asked on an I/O thread for every probe, so it
 * must be cheap and must not block.
 */
final class ReadinessHandler implements HttpHandler {

    static final String PATH = "/health/ready";

    private final Supplier<Readiness> readiness;

    ReadinessHandler(Supplier<Readiness> readiness) {
        this.readiness = readiness;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        Readiness now = readiness.get();
        JsonResponses.send(exchange, now.ready() ? 200 : 503, now.details());
    }
}
