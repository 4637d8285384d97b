package io.capstan.artifacts;

import io.capstan.raft.InvalidCommandException;
import io.capstan.raft.KeyspaceException;
import io.capstan.web.JsonResponses;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where the artifact endpoints' failures become HTTP errors, in the web layer's error
 * shape: bad input 400; an artifact that does not exist 404; a refusal by its state (still
 * referenced, not fetched yet, its fetch failed) 409; bytes that are not what the digest names 422;
 * a full store 507; a source or member that could not deliver 502; a cluster that cannot decide now
 * (no leader, timed out, stopping) 503 with Retry-After. Only a bug is a 500, logged here.
 * Stateless.
 */
final class Errors {
    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

    /** A refusal the endpoints raise themselves, with its status and stable code. */
    static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final String code;
        private final transient Map<String, ?> details;

        Refusal(int status, String code, String message, Map<String, ?> details) {
            super(message);
            this.status = status;
            this.code = code;
            this.details = Map.copyOf(details);
        }

        Refusal(int status, String code, String message) {
            this(status, code, message, Map.of());
        }
    }

    private Errors() {}

    static Refusal badRequest(String message) {
        return new Refusal(400, JsonResponses.BAD_REQUEST, message);
    }

    static Refusal notFound(Digest digest) {
        return new Refusal(404, "artifact_not_found", "artifact " + digest + " is not registered");
    }

    /** The failure behind a future's wrapping. */
    static Throwable cause(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** {@code failure} as a future's failure, unwrapped once already. */
    static CompletionException wrapped(Throwable failure) {
        Throwable cause = cause(failure);
        return cause instanceof CompletionException c ? c : new CompletionException(cause);
    }

    /** Answers {@code failure} in the error shape; call where the exchange may be answered. */
    static void send(HttpServerExchange exchange, Throwable failure) {
        Throwable cause = cause(failure);
        if (exchange.isResponseStarted()) {
            LOG.debug("failed after the response started", cause);
            exchange.setPersistent(false);
            exchange.endExchange();
            return;
        }
        if (cause instanceof Refusal r) {
            JsonResponses.sendError(exchange, r.status, r.code, r.getMessage(), r.details);
        } else if (cause instanceof InvalidCommandException e) {
            JsonResponses.sendError(exchange, 400, JsonResponses.BAD_REQUEST, e.getMessage());
        } else if (cause instanceof KeyspaceException e) {
            switch (e.code()) {
                case ARTIFACT_NOT_FOUND ->
                        JsonResponses.sendError(
                                exchange, 404, "artifact_not_found", e.getMessage());
                case ARTIFACT_REFERENCED ->
                        JsonResponses.sendError(
                                exchange, 409, "artifact_referenced", e.getMessage());
                default ->
                        JsonResponses.sendError(
                                exchange, 400, JsonResponses.BAD_REQUEST, e.getMessage());
            }
        } else if (cause instanceof ArtifactException e) {
            switch (e.kind()) {
                case DIGEST_MISMATCH ->
                        JsonResponses.sendError(exchange, 422, "digest_mismatch", e.getMessage());
                case TOO_LARGE ->
                        JsonResponses.sendError(
                                exchange, 413, JsonResponses.PAYLOAD_TOO_LARGE, e.getMessage());
                case STORE_FULL ->
                        JsonResponses.sendError(exchange, 507, "store_full", e.getMessage());
                case REFUSED, UNAVAILABLE ->
                        JsonResponses.sendError(exchange, 502, "fetch_failed", e.getMessage());
            }
        } else if (cause instanceof RejectedExecutionException) {
            retryLater(exchange, JsonResponses.SHUTTING_DOWN, "this member is stopping");
        } else if (cause instanceof java.io.IOException
                || cause instanceof java.util.concurrent.TimeoutException) {
            // Raft's failures: no leader, a timeout, a server not running.
            retryLater(
                    exchange,
                    JsonResponses.UNAVAILABLE,
                    "the cluster cannot decide now: " + cause.getMessage());
        } else {
            LOG.error("artifact request failed unexpectedly", cause);
            JsonResponses.sendError(
                    exchange, 500, JsonResponses.INTERNAL, "internal error: " + cause);
        }
    }

    private static void retryLater(HttpServerExchange exchange, String code, String message) {
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
        JsonResponses.sendError(exchange, 503, code, message);
    }
}
