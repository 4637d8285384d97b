package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /health/ready}: 200 when the supplied {@link Readiness} is ready, else 503; the body
 * is its details as JSON. The supplier is asked on an I/O thread for every probe, so it must be
 * cheap and must not block.
 *
 * <p>{@code ?check=NAME} (repeated, or comma separated) asks about those checks only: 200 when
 * every one passes, else 503, with {@code {"status": ..., "checks": {NAME: "pass"|"fail"}}}. A
 * probe that names an unknown check gets 400 {@code unknown_check} listing the known ones.
 */
final class ReadinessHandler implements HttpHandler {

    static final String PATH = "/health/ready";
    static final String CHECK = "check";
    static final String UNKNOWN_CHECK = "unknown_check";

    private final Supplier<Readiness> readiness;

    ReadinessHandler(Supplier<Readiness> readiness) {
        this.readiness = readiness;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        Readiness now = readiness.get();
        Deque<String> asked = exchange.getQueryParameters().get(CHECK);
        if (asked == null || asked.isEmpty()) {
            JsonResponses.send(exchange, now.ready() ? 200 : 503, now.details());
            return;
        }
        List<String> names = new ArrayList<>();
        asked.forEach(value -> names.addAll(List.of(value.split(",", -1))));
        Map<String, String> results = new LinkedHashMap<>();
        boolean pass = true;
        for (String name : names) {
            Boolean result = now.checks().get(name.strip());
            if (result == null) {
                JsonResponses.sendError(
                        exchange,
                        400,
                        UNKNOWN_CHECK,
                        "no check named '"
                                + name
                                + "'; known: "
                                + String.join(", ", now.checks().keySet()),
                        Map.of("checks", List.copyOf(now.checks().keySet())));
                return;
            }
            results.put(name.strip(), result ? "pass" : "fail");
            pass &= result;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", pass ? "ready" : "not_ready");
        body.put("checks", results);
        JsonResponses.send(exchange, pass ? 200 : 503, body);
    }
}
