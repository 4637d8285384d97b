package io.capstan.web;

import io.undertow.server.DefaultResponseListener;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.StatusCodes;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a JSON error body to every error response that would otherwise go out empty: statuses set
 * by Undertow's own handlers (drain, limits), by a failing handler (500, logged here with the
 * request id) or by a handler that set an error status and ended the exchange. Stateless.
 */
final class JsonErrorPages implements DefaultResponseListener {

    private static final Logger LOG = LoggerFactory.getLogger(JsonErrorPages.class);

    private final BooleanSupplier draining;

    /**
     * @param draining whether the server is draining, which is why it now answers 503
     */
    JsonErrorPages(BooleanSupplier draining) {
        this.draining = draining;
    }

    @Override
    public boolean handleDefaultResponse(HttpServerExchange exchange) {
        int status = exchange.getStatusCode();
        if (status < 400 || !exchange.isResponseChannelAvailable()) {
            return false;
        }
        RequestContext context = RequestContext.of(exchange);
        Throwable failure = exchange.getAttachment(DefaultResponseListener.EXCEPTION);
        context.run(() -> render(exchange, status, failure, context));
        return true;
    }

    private void render(
            HttpServerExchange exchange, int status, Throwable failure, RequestContext context) {
        switch (status) {
            case 413 ->
                    JsonResponses.sendError(
                            exchange,
                            status,
                            JsonResponses.PAYLOAD_TOO_LARGE,
                            failure instanceof RequestTooBigException
                                    ? failure.getMessage()
                                    : "request body too large");
            case 503 -> {
                if (draining.getAsBoolean()) {
                    JsonResponses.sendRetryLater(
                            exchange,
                            503,
                            JsonResponses.SHUTTING_DOWN,
                            "the server is shutting down",
                            Map.of());
                } else {
                    JsonResponses.sendRetryLater(
                            exchange,
                            503,
                            JsonResponses.UNAVAILABLE,
                            "service unavailable",
                            Map.of());
                }
            }
            case 500 -> {
                if (failure != null) {
                    LOG.error("{} {} failed", context.method(), context.path(), failure);
                }
                JsonResponses.sendError(exchange, status, JsonResponses.INTERNAL, "internal error");
            }
            default ->
                    JsonResponses.sendError(
                            exchange, status, codeOf(status), StatusCodes.getReason(status));
        }
    }

    /** A stable code derived from the reason phrase: 404 "Not Found" is {@code not_found}. */
    static String codeOf(int status) {
        String code =
                StatusCodes.getReason(status)
                        .toLowerCase(Locale.ROOT)
                        .replaceAll("[^a-z0-9]+", "_");
        return code.equals("unknown") ? "error_" + status : code;
    }
}
