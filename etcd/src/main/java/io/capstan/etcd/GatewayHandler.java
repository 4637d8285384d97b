package io.capstan.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.capstan.web.JsonResponses;
import io.capstan.web.RequestBodies;
import io.capstan.web.RequestContext;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;

/**
 * One path of etcd's JSON gateway: a POST whose body is the call's request message in protobuf's
 * JSON mapping, answered with the response message the same way, as etcd's grpc-gateway does (proto
 * field names, bytes in base64, 64-bit integers as strings, default values left out). An empty body
 * is the empty request. A streaming call (keep-alive) takes one request and wraps its one response
 * as {@code {"result": ...}}, as the gateway frames stream messages.
 *
 * <p>Errors have grpc-gateway's shape, {@code {"error": msg, "code": grpcCode, "message": msg}},
 * with the HTTP status {@link EtcdErrors#httpStatus} gives; a body that is not valid JSON for the
 * request message is 400 with code 3 (INVALID_ARGUMENT).
 *
 * <p><b>Threads.</b> Starts on an Undertow I/O thread, which only starts the non-blocking body
 * read. Parsing and the call run on the API executor; the response is written from the thread that
 * completes the call. The request id stays in the MDC throughout. Immutable; one instance serves
 * every request of its path.
 *
 * @param <Q> the request message
 * @param <R> the response message
 */
final class GatewayHandler<Q extends Message, R extends Message> implements HttpHandler {

    // Both are immutable and thread-safe.
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private final Q prototype;
    private final Function<Q, CompletableFuture<R>> call;
    private final boolean streamed;
    private final Executor executor;

    private GatewayHandler(
            Q prototype,
            Function<Q, CompletableFuture<R>> call,
            boolean streamed,
            Executor executor) {
        this.prototype = prototype;
        this.call = call;
        this.streamed = streamed;
        this.executor = executor;
    }

    static <Q extends Message, R extends Message> GatewayHandler<Q, R> unary(
            Q prototype, Function<Q, CompletableFuture<R>> call, Executor executor) {
        return new GatewayHandler<>(prototype, call, false, executor);
    }

    static <Q extends Message, R extends Message> GatewayHandler<Q, R> streamed(
            Q prototype, Function<Q, CompletableFuture<R>> call, Executor executor) {
        return new GatewayHandler<>(prototype, call, true, executor);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        onApiExecutor(exchange, executor, this::handle);
    }

    /** What a gateway path does with a request once its body is read; runs on the API executor. */
    @FunctionalInterface
    interface Opener {
        void open(HttpServerExchange exchange, RequestContext context, byte[] body);
    }

    /**
     * Reads the request body whole without blocking the I/O thread, then runs {@code opener} on the
     * API executor with the request id in the MDC and the caller in the gRPC context ({@link
     * Callers#gatewayFilter}); an executor that no longer takes work (the API is stopping) is
     * answered with etcd's "server stopped". Every gateway path starts so.
     */
    static void onApiExecutor(HttpServerExchange exchange, Executor executor, Opener opener) {
        RequestContext context = RequestContext.of(exchange);
        RequestBodies.readFully(
                exchange,
                (ex, body) ->
                        ex.dispatch(
                                SameThreadExecutor.INSTANCE,
                                () -> {
                                    try {
                                        executor.execute(
                                                Callers.contextOf(ex)
                                                        .wrap(
                                                                context.wrap(
                                                                        () ->
                                                                                opener.open(
                                                                                        ex, context,
                                                                                        body))));
                                    } catch (RejectedExecutionException e) {
                                        fail(ex, EtcdErrors.STOPPED);
                                    }
                                }));
    }

    /** Runs on the API executor. */
    private void handle(HttpServerExchange exchange, RequestContext context, byte[] body) {
        Q request;
        try {
            request = parse(body);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            fail(
                    exchange,
                    EtcdErrors.badJson(
                            "request body is not a valid "
                                    + prototype.getDescriptorForType().getFullName()
                                    + " in JSON: "
                                    + e.getMessage()));
            return;
        }
        CompletableFuture<R> reply;
        try {
            reply = call.apply(request);
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete(
                (response, error) ->
                        context.run(
                                () -> {
                                    if (error == null) {
                                        succeed(exchange, response);
                                    } else {
                                        fail(exchange, EtcdErrors.of(error));
                                    }
                                }));
    }

    @SuppressWarnings("unchecked")
    private Q parse(byte[] body) throws InvalidProtocolBufferException {
        String json = new String(body, StandardCharsets.UTF_8);
        Message.Builder builder = prototype.newBuilderForType();
        if (!json.isBlank()) {
            PARSER.merge(json, builder);
        }
        return (Q) builder.build();
    }

    private void succeed(HttpServerExchange exchange, R response) {
        String json;
        try {
            json = PRINTER.print(response);
        } catch (InvalidProtocolBufferException e) {
            fail(exchange, EtcdErrors.of(e));
            return;
        }
        if (streamed) {
            json = "{\"result\":" + json + "}";
        }
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)));
    }

    /** Answers {@code exchange} with {@code error} in grpc-gateway's shape and HTTP status. */
    static void fail(HttpServerExchange exchange, EtcdError error) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error.message());
        body.put("code", error.code().value());
        body.put("message", error.message());
        JsonResponses.send(exchange, error.httpStatus(), body);
    }
}
