package io.capstan.web;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.Executor;

/**
 * Runs the next handler with the request's context in the MDC, and makes the exchange's
 * executor-less dispatches do the same. It sits wherever Undertow may start a request's code
 * afresh: at the root, in front of each route's handler (which a request that waited for a place in
 * its admission budget starts later, from another thread) and its refusals.
 */
final class ContextualHandler implements HttpHandler {

    private final HttpHandler next;

    ContextualHandler(HttpHandler next) {
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        RequestContext context = RequestContext.of(exchange);
        if (exchange.getDispatchExecutor() == null) {
            exchange.setDispatchExecutor(new Dispatcher(exchange, context));
        }
        context.call(() -> next.handleRequest(exchange));
    }

    /**
     * The exchange's default dispatch executor: the connection's worker pool, with the request's
     * context in the MDC while the dispatched task runs.
     */
    private static final class Dispatcher implements Executor {
        private final HttpServerExchange exchange;
        private final RequestContext context;

        Dispatcher(HttpServerExchange exchange, RequestContext context) {
            this.exchange = exchange;
            this.context = context;
        }

        @Override
        public void execute(Runnable task) {
            exchange.getConnection()
                    .getWorker()
                    .execute(
                            () -> {
                                // Undertow forgets the dispatch executor once it used it; keep it
                                // for the next dispatch.
                                exchange.setDispatchExecutor(this);
                                context.run(task);
                            });
        }
    }
}
