package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.PathTemplateMatch;
import io.undertow.util.PathTemplateMatcher;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Finds the handler for a method and path among routes fixed at construction; answers 404 for an
 * unknown path and 405 with {@code Allow} for a known path with another method. Path parameters go
 * to {@link HttpServerExchange#getPathParameters()} and to the {@link PathTemplateMatch}
 * attachment.
 *
 * <p>Immutable after construction (the matchers are filled before the server is published and only
 * read afterwards), so every I/O thread may route at once.
 */
final class Router implements HttpHandler {

    private final Map<HttpString, PathTemplateMatcher<HttpHandler>> byMethod;

    /**
     * @throws IllegalArgumentException if two routes share a method and an equivalent path template
     */
    Router(List<Route> routes) {
        Map<HttpString, PathTemplateMatcher<HttpHandler>> matchers = new HashMap<>();
        for (Route route : routes) {
            PathTemplateMatcher<HttpHandler> matcher =
                    matchers.computeIfAbsent(
                            HttpString.tryFromString(route.method()),
                            m -> new PathTemplateMatcher<>());
            try {
                matcher.add(route.path(), route.handler());
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException(
                        "duplicate route "
                                + route.method()
                                + " "
                                + route.path()
                                + ": "
                                + e.getMessage(),
                        e);
            }
        }
        this.byMethod = Map.copyOf(matchers);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        String path = exchange.getRelativePath();
        PathTemplateMatcher<HttpHandler> matcher = byMethod.get(exchange.getRequestMethod());
        PathTemplateMatcher.PathMatchResult<HttpHandler> match =
                matcher == null ? null : matcher.match(path);
        if (match == null) {
            notRouted(exchange, path);
            return;
        }
        exchange.putAttachment(PathTemplateMatch.ATTACHMENT_KEY, match);
        match.getParameters().forEach(exchange::addPathParam);
        match.getValue().handleRequest(exchange);
    }

    private void notRouted(HttpServerExchange exchange, String path) {
        SortedSet<String> allowed = new TreeSet<>();
        byMethod.forEach(
                (method, matcher) -> {
                    if (matcher.match(path) != null) {
                        allowed.add(method.toString());
                    }
                });
        if (allowed.isEmpty()) {
            JsonResponses.sendError(exchange, 404, JsonResponses.NOT_FOUND, "no route for " + path);
            return;
        }
        String allow = String.join(", ", allowed);
        exchange.getResponseHeaders().put(Headers.ALLOW, allow);
        JsonResponses.sendError(
                exchange,
                405,
                JsonResponses.METHOD_NOT_ALLOWED,
                exchange.getRequestMethod()
                        + " is not allowed for "
                        + path
                        + "; allowed: "
                        + allow);
    }
}
