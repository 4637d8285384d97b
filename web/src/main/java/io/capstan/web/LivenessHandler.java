package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.Map;

/** {@code GET /health/live}: 200 {@code {"status":"live"}} for as long as the process serves. */
final class LivenessHandler implements HttpHandler {

    static final String PATH = "/health/live";

    private static final Map<String, String> LIVE = Map.of("status", "live");

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        JsonResponses.send(exchange, 200, LIVE);
    }
}
