package io.capstan.web;

import io.undertow.io.Receiver;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads request bodies without blocking a thread, within the route's body limit. */
public final class RequestBodies {

    private static final Logger LOG = LoggerFactory.getLogger(RequestBodies.class);

    private RequestBodies() {}

    /**
     * Reads the whole request body, then calls {@code callback} with it. The callback runs on the
     * thread that finished the read (the caller's, or the connection's I/O thread), with the
     * request's context in the MDC; it must dispatch before blocking. If the body exceeds the
     * route's limit (a chunked body has no length to check up front) the client gets 413 and the
     * callback is not called; if the read fails otherwise the connection is closed, with a 400 when
     * a response can still be sent.
     */
    public static void readFully(HttpServerExchange exchange, Receiver.FullBytesCallback callback) {
        RequestContext context = RequestContext.of(exchange);
        exchange.getRequestReceiver()
                .receiveFullBytes(
                        (ex, body) -> context.run(() -> callback.handle(ex, body)),
                        (ex, error) -> context.run(() -> failed(ex, error)));
    }

    private static void failed(HttpServerExchange exchange, IOException error) {
        // An HTTP/1.1 connection with part of a body unread cannot carry another request.
        exchange.setPersistent(false);
        if (exchange.isResponseStarted()) {
            exchange.endExchange();
            return;
        }
        IOException tooBig = tooBig(error);
        if (tooBig != null) {
            JsonResponses.sendError(
                    exchange,
                    413,
                    JsonResponses.PAYLOAD_TOO_LARGE,
                    tooBig.getMessage() != null
                            ? tooBig.getMessage()
                            : "request body too large to hold in memory");
        } else {
            LOG.debug("reading the request body failed", error);
            JsonResponses.sendError(
                    exchange,
                    400,
                    JsonResponses.BAD_REQUEST,
                    "could not read the request body: " + error.getMessage());
        }
    }

    // The receiver wraps failures of reads it resumed later in another IOException, and raises
    // its own exception for a body that cannot fit one array.
    private static IOException tooBig(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RequestTooBigException
                    || t instanceof Receiver.RequestToLargeException) {
                return (IOException) t;
            }
        }
        return null;
    }
}
