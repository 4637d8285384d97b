package io.capstan.controller.bench;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.PutRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closed-loop clients: each performs one operation (a put, a lock cycle), waits until it is done or
 * failed, and only then starts the next, so {@code n} clients keep exactly {@code n} operations in
 * flight.
 *
 * <p>A run opens its clients first, then has two phases on the injected clock: the warm-up, whose
 * operations are not counted, then the measured window. An operation counts in the window it
 * completes in; a client starts nothing once the window has ended, so a run ends at most one
 * operation's own bound after its window. Then its clients are closed.
 *
 * <p>Threads: {@link #run} is called by one thread at a time, which opens and closes the clients
 * and blocks until every client's loop has finished. Each loop runs on a thread of the injected
 * pool, which must have at least as many threads as the run has clients, and owns its client,
 * counters and histogram until its task completes.
 */
final class BenchLoad {
    private static final Logger log = LoggerFactory.getLogger(BenchLoad.class);

    /**
     * Significant decimal digits of the latencies: a percentile is within 0.1 % of a recorded
     * value.
     */
    private static final int DIGITS = 3;

    /** One client of a run. It bounds each of its operations itself (a deadline, a timeout). */
    @FunctionalInterface
    interface Client extends AutoCloseable {
        /**
         * Performs operation number {@code sequence}; returns once it is done, throws why it
         * failed.
         */
        void perform(long sequence) throws Exception;

        /** Releases what the client holds; called once, after its last operation. */
        @Override
        default void close() throws Exception {}
    }

    /** Opens client {@code index} (from 0) of a run, before the run's clock starts. */
    @FunctionalInterface
    interface Clients {
        Client open(int index) throws Exception;
    }

    /**
     * The clients of a run, or what they need on the cluster, could not be set up: nothing was
     * measured, and whatever was opened has been closed again.
     */
    static final class SetupException extends Exception {
        SetupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final ExecutorService clientPool;
    private final LongSupplier nanoTime;
    private final Duration warmup;
    private final Duration measure;

    /**
     * @param clientPool runs the clients' loops; it stays owned by the caller
     * @param nanoTime the clock phases and latencies are measured on, as {@link System#nanoTime}
     */
    BenchLoad(
            ExecutorService clientPool, LongSupplier nanoTime, Duration warmup, Duration measure) {
        this.clientPool = clientPool;
        this.nanoTime = nanoTime;
        this.warmup = warmup;
        this.measure = measure;
    }

    /**
     * Clients that propose puts through {@code propose}, each of a key no other put uses, {@code
     * <keyPrefix><client>/<sequence>}, and wait up to {@code timeout} for each to apply.
     */
    static Clients proposals(
            Function<Command, CompletableFuture<?>> propose,
            String keyPrefix,
            ByteString value,
            Duration timeout) {
        return index ->
                sequence -> {
                    Command put =
                            Command.newBuilder()
                                    .setPut(
                                            PutRequest.newBuilder()
                                                    .setKey(
                                                            ByteString.copyFromUtf8(
                                                                    keyPrefix + index + "/"
                                                                            + sequence))
                                                    .setValue(value))
                                    .build();
                    try {
                        propose.apply(put).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException e) {
                        throw new TimeoutException("no answer within " + timeout);
                    }
                };
    }

    /**
     * Opens {@code clients} clients, runs them for the warm-up and the measured window, and closes
     * them. {@code transport} and {@code auth} only label the result.
     *
     * @throws SetupException when a client could not be opened; nothing was measured
     */
    BenchResult run(String transport, boolean auth, int clients, Clients factory)
            throws InterruptedException, SetupException {
        List<Client> opened = new ArrayList<>(clients);
        try {
            for (int i = 0; i < clients; i++) {
                try {
                    opened.add(factory.open(i));
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    throw new SetupException(
                            "client " + i + " of " + clients + " could not be set up: " + e, e);
                }
            }
            return measure(transport, auth, opened);
        } finally {
            for (Client client : opened) {
                try {
                    client.close();
                } catch (Exception e) {
                    log.warn("closing a benchmark client failed: {}", e.toString());
                }
            }
        }
    }

    private BenchResult measure(String transport, boolean auth, List<Client> clients)
            throws InterruptedException {
        long measureStart = nanoTime.getAsLong() + warmup.toNanos();
        long measureEnd = measureStart + measure.toNanos();
        List<Future<Loop>> tasks = new ArrayList<>(clients.size());
        for (int i = 0; i < clients.size(); i++) {
            Loop loop = new Loop(i, clients.get(i), measureStart, measureEnd);
            tasks.add(clientPool.submit(loop::call));
        }
        Histogram latencies = new Histogram(DIGITS);
        long operations = 0;
        long errors = 0;
        try {
            for (Future<Loop> task : tasks) {
                Loop done = task.get();
                latencies.add(done.latencies);
                operations += done.operations;
                errors += done.errors;
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "a benchmark client failed: " + e.getCause(), e.getCause());
        } finally {
            tasks.forEach(t -> t.cancel(true));
        }
        return new BenchResult(
                transport,
                auth,
                clients.size(),
                operations,
                errors,
                measure,
                millisAt(latencies, 0.50),
                millisAt(latencies, 0.99));
    }

    private static double millisAt(Histogram latencies, double fraction) {
        return latencies.getTotalCount() == 0
                ? Double.NaN
                : latencies.getValueAtPercentile(fraction * 100) / 1e6;
    }

    /** One client's closed loop; its fields belong to the pool thread that runs {@link #call}. */
    private final class Loop {
        private final int index;
        private final Client client;
        private final long measureStart;
        private final long measureEnd;
        private final Histogram latencies = new Histogram(DIGITS);
        private long operations;
        private long errors;

        Loop(int index, Client client, long measureStart, long measureEnd) {
            this.index = index;
            this.client = client;
            this.measureStart = measureStart;
            this.measureEnd = measureEnd;
        }

        Loop call() throws InterruptedException {
            boolean errorLogged = false;
            for (long sequence = 0; ; sequence++) {
                long start = nanoTime.getAsLong();
                if (start - measureEnd >= 0) {
                    return this;
                }
                Throwable failure = perform(sequence);
                long end = nanoTime.getAsLong();
                if (end - measureStart < 0 || end - measureEnd > 0) {
                    continue;
                }
                if (failure == null) {
                    operations++;
                    latencies.recordValue(end - start);
                } else {
                    errors++;
                    if (!errorLogged) {
                        // One line per client and run: enough to say why, without flooding the
                        // output.
                        log.warn(
                                "operation of client {} failed (its further failures are only counted): {}",
                                index,
                                failure.toString());
                        errorLogged = true;
                    }
                }
            }
        }

        /** Returns why the operation failed, or null once it is done. */
        private Throwable perform(long sequence) throws InterruptedException {
            try {
                client.perform(sequence);
                return null;
            } catch (InterruptedException e) {
                throw e;
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (Exception e) {
                return e;
            }
        }
    }
}
