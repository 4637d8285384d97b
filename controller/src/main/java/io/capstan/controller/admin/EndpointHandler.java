package io.capstan.controller.admin;

import io.capstan.raft.NodeStatus;
import io.capstan.web.JsonResponses;
import io.capstan.web.RequestBodies;
import io.capstan.web.RequestContext;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import io.undertow.util.SameThreadExecutor;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * Serves one {@link AdminEndpoint} over HTTP: reads the body without blocking, runs the endpoint on
 * the admin executor, and answers its result as JSON, or its failure in the error shape.
 *
 * <p><b>Threads.</b> Starts on an Undertow I/O thread, which only starts the body read. The
 * endpoint runs on the admin executor, and the answer is written from it too: a Raft future's
 * completion hops back onto it, so no JSON is built on a Ratis thread. The request id stays in the
 * MDC throughout. Immutable; one instance serves every request of its route.
 */
final class EndpointHandler implements HttpHandler {

    private final AdminEndpoint endpoint;
    private final Executor executor;
    private final Supplier<NodeStatus> status;

    EndpointHandler(AdminEndpoint endpoint, Executor executor, Supplier<NodeStatus> status) {
        this.endpoint = endpoint;
        this.executor = executor;
        this.status = status;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        RequestContext context = RequestContext.of(exchange);
        RequestBodies.readFully(
                exchange,
                (ex, body) ->
                        ex.dispatch(
                                SameThreadExecutor.INSTANCE,
                                () -> onExecutor(ex, context, () -> call(ex, context, body))));
    }

    private void call(HttpServerExchange exchange, RequestContext context, byte[] body) {
        Map<String, String> path = new HashMap<>();
        exchange.getPathParameters()
                .forEach(
                        (name, values) -> {
                            if (values != null && !values.isEmpty()) {
                                path.put(name, values.getFirst());
                            }
                        });
        CompletableFuture<AdminEndpoint.Answer> answer;
        try {
            answer = endpoint.call(new AdminEndpoint.Request(path, body));
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete(
                (done, error) ->
                        onExecutor(
                                exchange,
                                context,
                                () -> {
                                    if (error == null) {
                                        done.headers()
                                                .forEach(
                                                        (name, value) ->
                                                                exchange.getResponseHeaders()
                                                                        .put(
                                                                                new HttpString(
                                                                                        name),
                                                                                value));
                                        JsonResponses.send(exchange, done.status(), done.body());
                                    } else {
                                        fail(exchange, AdminErrors.of(error, status.get()));
                                    }
                                }));
    }

    /** Runs {@code task} on the admin executor; once that has stopped, answers 503 from here. */
    private void onExecutor(HttpServerExchange exchange, RequestContext context, Runnable task) {
        try {
            executor.execute(context.wrap(task));
        } catch (RejectedExecutionException e) {
            context.run(() -> fail(exchange, AdminErrors.of(e, status.get())));
        }
    }

    static void fail(HttpServerExchange exchange, AdminError error) {
        JsonResponses.sendError(
                exchange, error.status(), error.code(), error.message(), error.details());
    }
}
