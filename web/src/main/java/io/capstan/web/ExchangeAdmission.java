package io.capstan.web;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.Connectors;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.Headers;
import io.undertow.util.ImmediatePooledByteBuffer;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xnio.IoUtils;
import org.xnio.XnioIoThread;

/**
 * Admits the requests of the routes of one {@link AdmissionBudget}: a request with a permit runs
 * its route's handler; one that waits is parked (no thread held) until a permit comes free, its
 * deadline passes (429 {@code too_many_requests} with {@code Retry-After}) or the server stops (503
 * {@code shutting_down}); a full queue answers 429 at once.
 *
 * <p>The permit comes back when the exchange completes, however it ends (response, error, a handler
 * that threw), and also as soon as its client is seen gone, queued or running:
 *
 * <ul>
 *   <li>every {@link #checkLiveness check} finds an HTTP/2 stream the client reset, or a connection
 *       that closed, by its response channel, which closes with them;
 *   <li>Undertow does not read an HTTP/1.1 connection while a request is in progress, so a client
 *       that closed its socket goes unnoticed until a write fails. Once the request's whole body
 *       has arrived and the request has lasted one check interval, the check reads the connection
 *       without blocking, on its I/O thread (one task per thread for all its connections): the end
 *       of the stream means the client is gone (as Go's net/http, and so etcd, take it; a client
 *       that half-closes to wait for its answer is taken for gone too); bytes of a pipelined next
 *       request are put back for Undertow, and that connection is not read again for this request.
 *       A queued request whose body is still arriving (chunked, or larger than what came with its
 *       head) cannot be checked so and leaves the queue at its deadline at the latest.
 * </ul>
 *
 * A request whose client left while it waited ends without an answer and is logged with {@value
 * #CLIENT_CLOSED} (nginx's "client closed request"); the work of one that left while running goes
 * on to its end, without its permit.
 *
 * <p>Threading: {@link #handle} runs on the I/O thread that routed the exchange; each request's
 * fate is decided once, under its entry's monitor, by whichever thread comes first (the entering
 * thread, a releasing thread, the budget's timer, the liveness check, the exchange's I/O thread),
 * and the exchange then continues on its own I/O thread. Budget calls are made outside entry
 * monitors. The set of live entries is concurrent; everything else is immutable.
 */
final class ExchangeAdmission {

    /** The status logged for a request whose client left while it waited: nobody receives it. */
    static final int CLIENT_CLOSED = 499;

    private static final HttpHandler ABANDON =
            exchange -> {
                exchange.setPersistent(false);
                exchange.setStatusCode(CLIENT_CLOSED);
                exchange.endExchange();
            };

    private final AdmissionBudget budget;
    private final Set<Entry> live = ConcurrentHashMap.newKeySet();
    private final HttpHandler queueFull;
    private final HttpHandler timedOut;
    private final HttpHandler stopping;

    ExchangeAdmission(AdmissionBudget budget) {
        this.budget = budget;
        AdmissionSettings limits = budget.settings();
        Map<String, String> details = Map.of("budget", budget.name());
        this.queueFull =
                new ContextualHandler(
                        exchange ->
                                JsonResponses.sendRetryLater(
                                        exchange,
                                        429,
                                        JsonResponses.TOO_MANY_REQUESTS,
                                        "too many requests: all "
                                                + limits.maxInFlight()
                                                + " places of the "
                                                + budget.name()
                                                + " budget are taken and "
                                                + limits.maxQueued()
                                                + " requests wait",
                                        details));
        this.timedOut =
                new ContextualHandler(
                        exchange ->
                                JsonResponses.sendRetryLater(
                                        exchange,
                                        429,
                                        JsonResponses.TOO_MANY_REQUESTS,
                                        "too many requests: no place of the "
                                                + budget.name()
                                                + " budget came free within "
                                                + limits.maxQueueWait().toMillis()
                                                + " ms",
                                        details));
        this.stopping =
                new ContextualHandler(
                        exchange ->
                                JsonResponses.sendRetryLater(
                                        exchange,
                                        503,
                                        JsonResponses.SHUTTING_DOWN,
                                        "the server is shutting down",
                                        Map.of()));
    }

    AdmissionBudget budget() {
        return budget;
    }

    /**
     * Runs {@code next} once the request has a permit (at once when one is free), or refuses it.
     * Called on the I/O thread that routed the exchange, within Undertow's handler call.
     */
    void handle(HttpServerExchange exchange, HttpHandler next) {
        Entry entry = new Entry(exchange, next);
        live.add(entry);
        exchange.addExchangeCompleteListener(entry);
        // Keeps the exchange open past this call, as Undertow's own RequestLimit does: the task
        // runs on this thread as soon as the handler call has returned.
        exchange.dispatch(SameThreadExecutor.INSTANCE, entry::enter);
    }

    /**
     * Looks for clients that left; called periodically by the web server's admission timer. The
     * HTTP/1.1 connections to read are read in one task per I/O thread, and only those of requests
     * at least {@code after} old: a request that ends sooner costs nothing here.
     */
    void checkLiveness(Duration after) {
        long now = System.nanoTime();
        Map<XnioIoThread, List<Entry>> toRead = new HashMap<>();
        for (Entry entry : live) {
            if (entry.check(now - after.toNanos())) {
                toRead.computeIfAbsent(entry.exchange.getIoThread(), thread -> new ArrayList<>())
                        .add(entry);
            }
        }
        toRead.forEach((thread, entries) -> thread.execute(() -> entries.forEach(Entry::probe)));
    }

    /** Refuses whoever waits and whoever comes later; see {@link AdmissionBudget#close()}. */
    void close() {
        budget.close();
    }

    /**
     * Returns every permit still held: the connections are closed, their requests can no longer
     * end.
     */
    void releaseAll() {
        live.forEach(Entry::release);
    }

    private enum Fate {
        WAITING,
        RUNNING,
        ANSWERED,
        ABANDONED
    }

    /** One request of this budget, from routing to the end of its exchange. */
    private final class Entry implements AdmissionBudget.Waiter, ExchangeCompletionListener {
        private final HttpServerExchange exchange;
        private final HttpHandler next;
        private final long arrived = System.nanoTime();

        /** The thread inside {@link #enter()}, which may continue the exchange itself. */
        private volatile Thread entering;

        // Guarded by this.
        private AdmissionBudget.Ticket ticket;
        private Fate fate = Fate.WAITING;
        private boolean completed;

        /** Set once this request's connection may no longer be read (a pipelined request came). */
        private boolean unreadable;

        Entry(HttpServerExchange exchange, HttpHandler next) {
            this.exchange = exchange;
            this.next = next;
        }

        void enter() {
            synchronized (this) {
                if (completed) {
                    return;
                }
            }
            entering = Thread.currentThread();
            AdmissionBudget.Ticket entered;
            try {
                entered = budget.enter(this);
            } finally {
                entering = null;
            }
            boolean ended;
            synchronized (this) {
                ticket = entered;
                ended = completed;
            }
            if (ended) {
                entered.release();
            }
        }

        /**
         * Records {@code decided} and moves a waiting request on to {@code then}; false when it no
         * longer waits.
         */
        private synchronized boolean decide(AdmissionBudget.Ticket decided, Fate then) {
            ticket = decided;
            if (fate != Fate.WAITING) {
                return false;
            }
            fate = then;
            return true;
        }

        @Override
        public void admitted(AdmissionBudget.Ticket admitted) {
            if (decide(admitted, Fate.RUNNING)) {
                resume(next);
            } else {
                // The client left while the permit was on its way.
                admitted.release();
            }
        }

        @Override
        public void refused(AdmissionBudget.Ticket refused, AdmissionBudget.Refusal refusal) {
            if (decide(refused, Fate.ANSWERED)) {
                resume(
                        switch (refusal) {
                            case QUEUE_FULL -> queueFull;
                            case TIMED_OUT -> timedOut;
                            case STOPPED -> stopping;
                        });
            }
        }

        /**
         * Goes on with {@code handler}: here if {@link #enter()} decided at once, else on its I/O
         * thread.
         */
        private void resume(HttpHandler handler) {
            if (entering == Thread.currentThread()) {
                Connectors.executeRootHandler(handler, exchange);
            } else {
                exchange.dispatch(exchange.getIoThread(), handler);
            }
        }

        @Override
        public void exchangeEvent(HttpServerExchange ended, NextListener nextListener) {
            try {
                release();
            } finally {
                nextListener.proceed();
            }
        }

        /** The exchange is over, or can no longer end: its permit comes back. */
        void release() {
            AdmissionBudget.Ticket held;
            synchronized (this) {
                completed = true;
                held = ticket;
            }
            live.remove(this);
            if (held != null) {
                held.release();
            }
        }

        /**
         * Whether a client that leaves still matters: the request entered, waits or runs, and has
         * not ended.
         */
        private boolean watched() {
            return !completed && ticket != null && (fate == Fate.WAITING || fate == Fate.RUNNING);
        }

        /**
         * Runs on the admission timer: ends the wait of a request whose stream or connection
         * closed; true when its HTTP/1.1 connection is to be read, for a request that arrived
         * before {@code since}.
         */
        boolean check(long since) {
            synchronized (this) {
                if (!watched()) {
                    return false;
                }
            }
            if (!Connectors.getConduitSinkChannel(exchange).isOpen()) {
                clientGone(false);
                return false;
            }
            return arrived - since <= 0
                    && exchange.getConnection() instanceof HttpServerConnection
                    && !exchange.getRequestHeaders().contains(Headers.UPGRADE);
        }

        /**
         * Runs on the exchange's I/O thread: reads what follows this request on its HTTP/1.1
         * connection.
         */
        private void probe() {
            boolean gone = false;
            synchronized (this) {
                if (!watched() || unreadable || !bodyArrived()) {
                    return;
                }
                HttpServerConnection connection = (HttpServerConnection) exchange.getConnection();
                PooledByteBuffer pooled = connection.getByteBufferPool().allocate();
                try {
                    ByteBuffer buffer = pooled.getBuffer();
                    int read = connection.getOriginalSourceConduit().read(buffer);
                    if (read < 0) {
                        gone = true;
                    } else if (read > 0) {
                        buffer.flip();
                        putBack(connection, buffer);
                        unreadable = true;
                    }
                } catch (IOException e) {
                    gone = true;
                } finally {
                    pooled.close();
                }
            }
            if (gone) {
                clientGone(true);
            }
        }

        /**
         * Whether every byte of the request's body has arrived, so that whatever follows on the
         * connection is the client's next request or its end. A running handler may be reading the
         * body right now, so until it has read all of it nothing else looks.
         */
        private boolean bodyArrived() {
            if (exchange.isRequestComplete()) {
                return true;
            }
            if (fate != Fate.WAITING
                    || exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING)) {
                return false;
            }
            long length = exchange.getRequestContentLength();
            PooledByteBuffer buffered =
                    ((HttpServerConnection) exchange.getConnection()).getExtraBytes();
            return length >= 0 && buffered != null && buffered.getBuffer().remaining() >= length;
        }

        /**
         * Appends bytes read past this request to those Undertow holds for the connection's next
         * request.
         */
        private static void putBack(HttpServerConnection connection, ByteBuffer read) {
            PooledByteBuffer held = connection.getExtraBytes();
            int before = held == null ? 0 : held.getBuffer().remaining();
            ByteBuffer joined = ByteBuffer.allocate(before + read.remaining());
            if (held != null) {
                joined.put(held.getBuffer());
                held.close();
            }
            joined.put(read).flip();
            connection.setExtraBytes(new ImmediatePooledByteBuffer(joined));
        }

        /**
         * The client reset the stream or closed the connection ({@code close}: an HTTP/1.1 one, to
         * close here too).
         */
        private void clientGone(boolean close) {
            AdmissionBudget.Ticket held;
            boolean abandon;
            synchronized (this) {
                if (!watched()) {
                    return;
                }
                held = ticket;
                abandon = decide(held, Fate.ABANDONED);
            }
            live.remove(this);
            held.release();
            if (abandon) {
                // Ends the exchange, logged as such, and then its connection.
                exchange.dispatch(exchange.getIoThread(), ABANDON);
            } else if (close) {
                // The handler's answer, whenever it comes, has nowhere to go.
                IoUtils.safeClose(exchange.getConnection());
            }
        }
    }
}
