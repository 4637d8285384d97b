package io.capstan.web;

import io.undertow.server.DefaultResponseListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler every request meets: creates its {@link RequestContext}, echoes the request
 * id, and arranges JSON bodies for errors that end the exchange without one.
 */
final class RequestEntry implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RequestEntry.class);
    private static final HttpString REQUEST_ID = new HttpString(RequestContext.HEADER);

    private final HttpHandler next;
    private final DefaultResponseListener errorPages;

    RequestEntry(HttpHandler next, DefaultResponseListener errorPages) {
        this.next = new ContextualHandler(next);
        this.errorPages = errorPages;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        RequestContext context = RequestContext.arrived(exchange);
        exchange.putAttachment(RequestContext.ATTACHMENT, context);
        exchange.getResponseHeaders().put(REQUEST_ID, context.requestId());
        exchange.addDefaultResponseListener(errorPages);
        if (LOG.isDebugEnabled()) {
            exchange.addExchangeCompleteListener((ex, nextListener) -> {
                context.run(() -> LOG.debug("{} {} -> {}", context.method(), context.path(), ex.getStatusCode()));
                nextListener.proceed();
            });
        }
        next.handleRequest(exchange);
    }
}
