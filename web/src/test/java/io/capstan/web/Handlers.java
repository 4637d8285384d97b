package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/** Small handlers the tests route to. */
final class Handlers {

    private Handlers() {}

    static void text(HttpServerExchange exchange, String body) {
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
        exchange.getResponseSender().send(body);
    }

    /** Answers {@code body} from a worker thread, as blocking handlers do. */
    static HttpHandler onWorker(HttpHandler handler) {
        return exchange -> {
            if (exchange.isInIoThread()) {
                exchange.dispatch(handler);
                return;
            }
            handler.handleRequest(exchange);
        };
    }

    static HttpHandler fixed(String body) {
        return exchange -> text(exchange, body);
    }
}
