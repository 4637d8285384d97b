package io.capstan.controller.admin;

import io.capstan.web.JsonResponses;
import io.capstan.web.Route;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.Locale;

/**
 * Puts the admin token in front of the admin routes: {@code /v1/...} and {@code /metrics}. Not in
 * front of {@code /health/*} (probes carry no secrets), the peer routes {@code /raft/*}
 * (authenticated by the cluster secret) or etcd's gateway {@code /v3/*} (etcd's own auth governs
 * it). A request needs {@code Authorization: Bearer <token>}: without one it gets 401 with {@code
 * WWW-Authenticate: Bearer}, with another token 403. Immutable.
 */
final class TokenGuard {
    static final String SCHEME = "Bearer ";
    static final String CHALLENGE = "Bearer realm=\"capstan\"";

    private final AdminToken token;

    TokenGuard(AdminToken token) {
        this.token = token;
    }

    /** Whether requests to {@code path} need the token. */
    static boolean guards(String path) {
        return path.equals("/v1")
                || path.startsWith("/v1/")
                || path.equals("/metrics")
                || path.startsWith("/metrics/");
    }

    /** {@code route} behind the token when its path needs it, else {@code route} itself. */
    Route guarded(Route route) {
        if (!guards(route.path())) {
            return route;
        }
        HttpHandler next = route.handler();
        HttpHandler checked =
                exchange -> {
                    if (admitted(exchange)) {
                        next.handleRequest(exchange);
                    }
                };
        return route.withHandler(checked);
    }

    /** Whether the request carries the token; otherwise answers 401 or 403 and returns false. */
    private boolean admitted(HttpServerExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (authorization == null
                || authorization.length() <= SCHEME.length()
                || !authorization
                        .substring(0, SCHEME.length())
                        .toLowerCase(Locale.ROOT)
                        .equals("bearer ")) {
            exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, CHALLENGE);
            JsonResponses.sendError(
                    exchange,
                    401,
                    "unauthorized",
                    "this endpoint needs the admin token: Authorization: Bearer <token>");
            return false;
        }
        if (!token.matches(authorization.substring(SCHEME.length()).strip())) {
            JsonResponses.sendError(exchange, 403, "forbidden", "the admin token is not valid");
            return false;
        }
        return true;
    }
}
