package io.capstan.web;

import io.undertow.server.DefaultResponseListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import io.undertow.util.PathTemplateMatch;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler every request meets: creates its {@link RequestContext}, echoes the request id,
 * arranges JSON bodies for errors that end the exchange without one, and once the exchange
 * completes writes its access log line and tells the {@link RequestObserver}, whoever answered.
 */
final class RequestEntry implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RequestEntry.class);
    private static final HttpString REQUEST_ID = new HttpString(RequestContext.HEADER);

    /** The owner of requests no route matched: the web layer itself. */
    private static final String WEB = "web";

    private final HttpHandler next;
    private final DefaultResponseListener errorPages;
    private final RequestObserver observer;

    RequestEntry(HttpHandler next, DefaultResponseListener errorPages, RequestObserver observer) {
        this.next = new ContextualHandler(next);
        this.errorPages = errorPages;
        this.observer = observer;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        long arrived = System.nanoTime();
        RequestContext context = RequestContext.arrived(exchange);
        exchange.putAttachment(RequestContext.ATTACHMENT, context);
        exchange.getResponseHeaders().put(REQUEST_ID, context.requestId());
        exchange.addDefaultResponseListener(errorPages);
        exchange.addExchangeCompleteListener(
                (ex, nextListener) -> {
                    try {
                        CompletedRequest done = completed(ex, context, System.nanoTime() - arrived);
                        context.run(
                                () -> {
                                    AccessLog.log(done);
                                    observer.completed(done);
                                });
                    } catch (RuntimeException e) {
                        LOG.warn("observing a completed request failed: {}", e.toString());
                    } finally {
                        nextListener.proceed();
                    }
                });
        next.handleRequest(exchange);
    }

    private static CompletedRequest completed(
            HttpServerExchange exchange, RequestContext context, long nanos) {
        // The router attaches the match; requests it did not route (404, 405, draining) have none.
        PathTemplateMatch match = exchange.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        String route = match == null ? CompletedRequest.UNMATCHED : match.getMatchedTemplate();
        String owner = exchange.getAttachment(RouteHandler.OWNER);
        InetSocketAddress source = exchange.getSourceAddress();
        String remote = source == null ? "-" : source.getHostString() + ":" + source.getPort();
        return new CompletedRequest(
                route,
                owner == null ? WEB : owner,
                context.method(),
                context.path(),
                exchange.getStatusCode(),
                exchange.getResponseBytesSent(),
                nanos,
                context.requestId(),
                remote);
    }
}
