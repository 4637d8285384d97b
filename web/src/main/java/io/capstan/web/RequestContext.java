package io.capstan.web;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.MDC;

/**
 * What the web layer knows about one request, created once when the request arrives and attached to
 * its exchange. Immutable, so any thread that handles the request may read it.
 *
 * <p>While the web layer runs a request's code it holds {@link #requestId()} in the SLF4J MDC under
 * {@link #MDC_KEY}: in the handler on the I/O thread, after a dispatch to the worker pool ({@code
 * exchange.dispatch(...)} without an explicit executor), when a request waiting for a concurrency
 * slot resumes, and in {@link RequestBodies} callbacks. Code that continues the request elsewhere
 * (a future's callback, another executor) restores it with {@link #run}, {@link #supply}, {@link
 * #wrap} or {@link #executor}. Each of them puts the id for the duration of the call only and
 * afterwards restores what the thread's MDC held before, so pooled threads never keep it.
 *
 * @param requestId the caller's {@code X-Request-Id} when it is valid, else a generated one
 * @param method the request method
 * @param path the request path, without the query string
 */
public record RequestContext(String requestId, String method, String path) {

    /** Header that carries the request id in both directions. */
    public static final String HEADER = "X-Request-Id";

    /** MDC key under which the request id is visible to log patterns ({@code %X{requestId}}). */
    public static final String MDC_KEY = "requestId";

    static final int MAX_ID_LENGTH = 128;

    static final AttachmentKey<RequestContext> ATTACHMENT =
            AttachmentKey.create(RequestContext.class);

    public RequestContext {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        if (!isValidId(requestId)) {
            throw new IllegalArgumentException(
                    "request id must be 1.."
                            + MAX_ID_LENGTH
                            + " visible ASCII characters: "
                            + requestId);
        }
    }

    /**
     * The context of a request that came through the web layer.
     *
     * @throws IllegalStateException if the exchange did not pass through a {@link WebServer}
     */
    public static RequestContext of(HttpServerExchange exchange) {
        RequestContext context = exchange.getAttachment(ATTACHMENT);
        if (context == null) {
            throw new IllegalStateException(
                    "exchange has no request context; it did not come through the web layer");
        }
        return context;
    }

    /** Runs {@code task} on the calling thread with this request's id in the MDC. */
    public void run(Runnable task) {
        String previous = enter();
        try {
            task.run();
        } finally {
            restore(previous);
        }
    }

    /**
     * Runs {@code task} on the calling thread with this request's id in the MDC; returns its
     * result.
     */
    public <T> T supply(Supplier<T> task) {
        String previous = enter();
        try {
            return task.get();
        } finally {
            restore(previous);
        }
    }

    /** {@code task}, changed to run with this request's id in the MDC wherever it runs. */
    public Runnable wrap(Runnable task) {
        Objects.requireNonNull(task, "task");
        return () -> run(task);
    }

    /** An executor that runs every task on {@code delegate} with this request's id in the MDC. */
    public Executor executor(Executor delegate) {
        Objects.requireNonNull(delegate, "delegate");
        return task -> delegate.execute(wrap(task));
    }

    /** What {@link #run} does, for a piece of handler code that may throw. */
    void call(HandlerCall call) throws Exception {
        String previous = enter();
        try {
            call.run();
        } finally {
            restore(previous);
        }
    }

    /** The context for a newly arrived request: its own valid id, or a fresh one. */
    static RequestContext arrived(HttpServerExchange exchange) {
        String offered = exchange.getRequestHeaders().getFirst(HEADER);
        String id = isValidId(offered) ? offered : UUID.randomUUID().toString();
        return new RequestContext(
                id, exchange.getRequestMethod().toString(), exchange.getRequestPath());
    }

    /**
     * Whether {@code id} may serve as a request id: 1..{@value #MAX_ID_LENGTH} visible ASCII
     * characters, no spaces (ids end up in log lines and headers). Other protocols (gRPC) use it to
     * accept a caller's id by the same rule.
     */
    public static boolean isValidId(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /** Puts this request's id in the MDC and returns what was there, for {@link #restore}. */
    private String enter() {
        String previous = MDC.get(MDC_KEY);
        MDC.put(MDC_KEY, requestId);
        return previous;
    }

    private static void restore(String previous) {
        if (previous == null) {
            MDC.remove(MDC_KEY);
        } else {
            MDC.put(MDC_KEY, previous);
        }
    }

    /** Handler code that may throw, run by {@link #call}. */
    @FunctionalInterface
    interface HandlerCall {
        void run() throws Exception;
    }
}
