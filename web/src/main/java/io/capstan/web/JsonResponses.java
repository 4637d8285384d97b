package io.capstan.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * JSON responses, and the one error shape every Capstan HTTP error uses:
 *
 * <pre>{"error":{"code":"not_found","message":"no route for GET /x", ...details}}</pre>
 *
 * {@code code} is stable and meant for programs; {@code message} is for people and may change.
 *
 * <p>Call from whichever thread currently handles the exchange, before any other part of the
 * response was sent. The body is sent asynchronously and the exchange ends when it is written.
 */
public final class JsonResponses {

    /** 400: the request is malformed or a value is out of range. */
    public static final String BAD_REQUEST = "bad_request";

    /** 404: no route for the path. */
    public static final String NOT_FOUND = "not_found";

    /** 405: the path exists but not for this method; the response has an {@code Allow} header. */
    public static final String METHOD_NOT_ALLOWED = "method_not_allowed";

    /** 413: the request body is larger than the route allows. */
    public static final String PAYLOAD_TOO_LARGE = "payload_too_large";

    /** 503: the component serving the route is not ready; retry after {@code Retry-After}. */
    public static final String UNAVAILABLE = "unavailable";

    /**
     * 429: the route's admission budget has no place: every permit and queue place was taken, or
     * none came free in time; retry after {@code Retry-After}. The body names the {@code budget}.
     */
    public static final String TOO_MANY_REQUESTS = "too_many_requests";

    /** 503: the server is draining before it stops; retry elsewhere or later. */
    public static final String SHUTTING_DOWN = "shutting_down";

    /** 500: a bug; it is logged with the request id. */
    public static final String INTERNAL = "internal";

    /** Every 503 and 429 asks for a retry this soon: gates open and places free within moments. */
    static final String RETRY_AFTER_SECONDS = "1";

    // ObjectWriter is immutable and thread-safe, unlike a mapper that may still be configured.
    private static final ObjectWriter WRITER = new ObjectMapper().writer();

    private JsonResponses() {}

    /** Sends {@code body} serialised as JSON with {@code status}. */
    public static void send(HttpServerExchange exchange, int status, Object body) {
        byte[] json = toJson(body);
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(ByteBuffer.wrap(json));
    }

    /**
     * Sends the error shape with {@code status}, a stable {@code code} and a human {@code message}.
     */
    public static void sendError(
            HttpServerExchange exchange, int status, String code, String message) {
        sendError(exchange, status, code, message, Map.of());
    }

    /**
     * Sends the error shape with extra fields next to {@code code} and {@code message}, such as
     * what a caller needs to recover (the leader's address, the component that is not ready).
     *
     * @throws IllegalArgumentException if {@code status} is not an error or a detail is named
     *     {@code code} or {@code message}
     */
    public static void sendError(
            HttpServerExchange exchange,
            int status,
            String code,
            String message,
            Map<String, ?> details) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("not an error status: " + status);
        }
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
        if (details.containsKey("code") || details.containsKey("message")) {
            throw new IllegalArgumentException(
                    "details must not redefine code or message: " + details.keySet());
        }
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        error.putAll(details);
        send(exchange, status, Map.of("error", error));
    }

    /**
     * An error that tells the client to come back (503, 429): the {@code Retry-After} header and
     * the error shape.
     */
    static void sendRetryLater(
            HttpServerExchange exchange,
            int status,
            String code,
            String message,
            Map<String, ?> details) {
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, RETRY_AFTER_SECONDS);
        sendError(exchange, status, code, message, details);
    }

    private static byte[] toJson(Object body) {
        try {
            return WRITER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "response body cannot be written as JSON: " + e.getMessage(), e);
        }
    }
}
