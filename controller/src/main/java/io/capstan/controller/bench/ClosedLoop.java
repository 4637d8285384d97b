package io.capstan.controller.bench;

import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asynchronous closed-loop clients: each starts one operation, and starts the next only when that
 * one has completed or failed, so {@code n} clients keep exactly {@code n} operations in flight
 * without a thread each.
 *
 * <p>A run has two phases on the injected clock: the warm-up, whose operations are not counted,
 * then the measured {@link Window}. An operation counts (its latency, or its failure by kind) in
 * the window it completes in; no client starts an operation once the window has ended, so the run
 * is over one operation's own bound (its deadline) after the window.
 *
 * <p>Threads: {@link #run} is called by one thread, which blocks until every client has stopped.
 * Each client's operations are started by the callback that completed its previous one (the first
 * by the calling thread), so a client's state passes from callback to callback; the latency
 * recorder and error counts are safe for concurrent writers.
 */
final class ClosedLoop {
    private static final Logger log = LoggerFactory.getLogger(ClosedLoop.class);

    /** Significant decimal digits the latency histograms keep. */
    static final int DIGITS = 3;

    /** The kind of error of an operation that had not ended when the run stopped waiting. */
    static final String UNFINISHED = "UNFINISHED";

    /** One client of a run; see {@link #start}. */
    @FunctionalInterface
    interface Client {
        /**
         * Starts operation number {@code sequence} (from 0) and returns at once; the future
         * completes when the operation is done, or exceptionally with why it failed: a gRPC status,
         * or {@link OperationFailed}. Each operation bounds itself (a deadline).
         */
        CompletableFuture<?> start(long sequence);
    }

    /**
     * An operation that got an answer, but not the one it needed, e.g. a transaction whose compare
     * failed.
     */
    static final class OperationFailed extends RuntimeException {
        private final String kind;

        OperationFailed(String kind) {
            super(kind, null, false, false);
            this.kind = kind;
        }

        String kind() {
            return kind;
        }
    }

    /** The measured window, in the clock's nanoseconds: {@code [start, end]}. */
    record Window(long start, long end) {
        boolean contains(long nanos) {
            return nanos - start >= 0 && end - nanos >= 0;
        }

        double seconds() {
            return (end - start) / 1e9;
        }
    }

    /**
     * What the clients did in the window.
     *
     * @param latencies nanoseconds of each operation that completed in it
     * @param errors failures in it by kind, sorted by name
     */
    record Outcome(Histogram latencies, Map<String, Long> errors) {
        long operations() {
            return latencies.getTotalCount();
        }
    }

    private final LongSupplier nanoTime;

    /**
     * @param nanoTime the clock phases and latencies are measured on, as {@link System#nanoTime}
     */
    ClosedLoop(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** The window that begins after {@code warmup} from now and lasts {@code measure}. */
    Window window(Duration warmup, Duration measure) {
        long start = nanoTime.getAsLong() + warmup.toNanos();
        return new Window(start, start + measure.toNanos());
    }

    /** Told, on the thread that runs the clients, when the measured window starts and ends. */
    interface WindowHook {
        WindowHook NONE =
                new WindowHook() {
                    @Override
                    public void started() {}

                    @Override
                    public void ended() {}
                };

        void started();

        void ended();
    }

    /**
     * Runs {@code clients} until {@code window} ends, and waits for their last operations, at most
     * {@code grace} after the window; operations still running then count as {@value #UNFINISHED}.
     * {@code hook} hears of the window's start and end when they come (within a millisecond or so).
     */
    Outcome run(Window window, List<Client> clients, Duration grace, WindowHook hook)
            throws InterruptedException {
        Recorder latencies = new Recorder(DIGITS);
        Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        CountDownLatch stopped = new CountDownLatch(clients.size());
        for (int i = 0; i < clients.size(); i++) {
            new Loop(i, clients.get(i), window, latencies, errors, stopped).next(0);
        }
        sleepUntil(window.start());
        hook.started();
        sleepUntil(window.end());
        hook.ended();
        long waitNanos = window.end() - nanoTime.getAsLong() + grace.toNanos();
        if (!stopped.await(Math.max(0, waitNanos), TimeUnit.NANOSECONDS)) {
            errors.computeIfAbsent(UNFINISHED, k -> new LongAdder()).add(stopped.getCount());
        }
        Map<String, Long> counted = new TreeMap<>();
        errors.forEach((kind, count) -> counted.put(kind, count.sum()));
        return new Outcome(latencies.getIntervalHistogram(), counted);
    }

    private void sleepUntil(long nanos) throws InterruptedException {
        long left = nanos - nanoTime.getAsLong();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** The kind an operation's failure counts as: its gRPC status code's name, or its own kind. */
    static String kindOf(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof OperationFailed failed) {
            return failed.kind();
        }
        return Status.fromThrowable(cause).getCode().name();
    }

    /** One client's chain of operations. */
    private final class Loop {
        private final int index;
        private final Client client;
        private final Window window;
        private final Recorder latencies;
        private final Map<String, LongAdder> errors;
        private final CountDownLatch stopped;

        /**
         * Whether this client's first failure in the window was logged: touched by one callback at
         * a time.
         */
        private boolean failureLogged;

        Loop(
                int index,
                Client client,
                Window window,
                Recorder latencies,
                Map<String, LongAdder> errors,
                CountDownLatch stopped) {
            this.index = index;
            this.client = client;
            this.window = window;
            this.latencies = latencies;
            this.errors = errors;
            this.stopped = stopped;
        }

        /**
         * Starts operation {@code sequence} and those after it. Operations that complete at once
         * are followed in this loop rather than by recursion, so a client whose calls fail at once
         * (a refused connection) does not grow the stack.
         */
        void next(long sequence) {
            for (long s = sequence; ; s++) {
                long start = nanoTime.getAsLong();
                if (start - window.end() >= 0) {
                    stopped.countDown();
                    return;
                }
                CompletableFuture<?> operation;
                try {
                    operation = client.start(s);
                } catch (RuntimeException e) {
                    operation = CompletableFuture.failedFuture(e);
                }
                if (!operation.isDone()) {
                    long following = s + 1;
                    operation.whenComplete(
                            (result, failure) -> {
                                ended(start, failure);
                                next(following);
                            });
                    return;
                }
                Throwable failure = null;
                try {
                    operation.join();
                } catch (RuntimeException e) {
                    failure = e;
                }
                ended(start, failure);
            }
        }

        private void ended(long start, Throwable failure) {
            long end = nanoTime.getAsLong();
            if (!window.contains(end)) {
                return;
            }
            if (failure == null) {
                latencies.recordValue(Math.max(0, end - start));
                return;
            }
            String kind = kindOf(failure);
            errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
            if (!failureLogged) {
                // One line per client and run: enough to say why, without flooding the output.
                log.warn(
                        "operation of client {} failed ({}; its further failures are only counted): {}",
                        index,
                        kind,
                        failure.toString());
                failureLogged = true;
            }
        }
    }
}
