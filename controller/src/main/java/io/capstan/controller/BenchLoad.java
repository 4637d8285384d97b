package io.capstan.controller;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closed-loop writers: each proposes one put of a key no other write uses, waits until it is
 * applied (or failed), and only then proposes the next, so {@code n} writers keep exactly
 * {@code n} writes in flight.
 *
 * <p>A run has two phases on the injected clock: the warm-up, whose writes are not counted, then
 * the measured window. A write counts in the window it completes in; a writer proposes nothing
 * once the window has ended, so a run ends at most one write timeout after its window.
 *
 * <p>Threads: {@link #run} is called by one thread at a time, which blocks until every writer of
 * the run has finished. Each writer runs on a thread of the injected pool, which must have at
 * least as many threads as the run has writers, and owns its counters and histogram until its
 * task completes.
 */
final class BenchLoad {
    private static final Logger log = LoggerFactory.getLogger(BenchLoad.class);

    private final ExecutorService writerPool;
    private final LongSupplier nanoTime;
    private final ByteString value;
    private final Duration warmup;
    private final Duration measure;
    private final Duration writeTimeout;

    /**
     * @param writerPool runs the writers; it stays owned by the caller
     * @param nanoTime the clock phases and latencies are measured on, as {@link System#nanoTime}
     * @param value the value of every put
     * @param writeTimeout how long one writer waits for one write before counting it failed
     */
    BenchLoad(ExecutorService writerPool, LongSupplier nanoTime, ByteString value,
              Duration warmup, Duration measure, Duration writeTimeout) {
        this.writerPool = writerPool;
        this.nanoTime = nanoTime;
        this.value = value;
        this.warmup = warmup;
        this.measure = measure;
        this.writeTimeout = writeTimeout;
    }

    /**
     * Runs {@code writers} writers through {@code propose} for the warm-up and the measured window.
     * Keys are {@code bench/<transport>/<writers>/<writer>/<sequence>}, so runs on one cluster
     * never write the same key.
     */
    BenchResult run(String transport, int writers, Function<Command, CompletableFuture<?>> propose)
            throws InterruptedException {
        long measureStart = nanoTime.getAsLong() + warmup.toNanos();
        long measureEnd = measureStart + measure.toNanos();
        List<Future<Writer>> tasks = new ArrayList<>(writers);
        for (int i = 0; i < writers; i++) {
            Writer writer = new Writer("bench/" + transport + "/" + writers + "/" + i + "/", propose,
                    measureStart, measureEnd);
            tasks.add(writerPool.submit(writer::call));
        }
        BenchHistogram latencies = new BenchHistogram();
        long writes = 0;
        long errors = 0;
        try {
            for (Future<Writer> task : tasks) {
                Writer done = task.get();
                latencies.add(done.latencies);
                writes += done.writes;
                errors += done.errors;
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("a benchmark writer failed: " + e.getCause(), e.getCause());
        } finally {
            tasks.forEach(t -> t.cancel(true));
        }
        return new BenchResult(transport, writers, writes, errors, measure,
                millisAt(latencies, 0.50), millisAt(latencies, 0.99));
    }

    private static double millisAt(BenchHistogram latencies, double fraction) {
        return latencies.count() == 0 ? Double.NaN : latencies.percentile(fraction) / 1e6;
    }

    /** One closed-loop writer; its fields belong to the pool thread that runs {@link #call}. */
    private final class Writer {
        private final String keyPrefix;
        private final Function<Command, CompletableFuture<?>> propose;
        private final long measureStart;
        private final long measureEnd;
        private final BenchHistogram latencies = new BenchHistogram();
        private long writes;
        private long errors;

        Writer(String keyPrefix, Function<Command, CompletableFuture<?>> propose, long measureStart, long measureEnd) {
            this.keyPrefix = keyPrefix;
            this.propose = propose;
            this.measureStart = measureStart;
            this.measureEnd = measureEnd;
        }

        Writer call() throws InterruptedException {
            boolean errorLogged = false;
            for (long sequence = 0; ; sequence++) {
                long start = nanoTime.getAsLong();
                if (start - measureEnd >= 0) {
                    return this;
                }
                Throwable failure = write(sequence);
                long end = nanoTime.getAsLong();
                if (end - measureStart < 0 || end - measureEnd > 0) {
                    continue;
                }
                if (failure == null) {
                    writes++;
                    latencies.record(end - start);
                } else {
                    errors++;
                    if (!errorLogged) {
                        // One line per writer and run: enough to say why, without flooding the output.
                        log.warn("write to {} failed (further failures of this writer only counted): {}",
                                keyPrefix, failure.toString());
                        errorLogged = true;
                    }
                }
            }
        }

        /** Proposes one put and waits for it; returns why it failed, or null once it is applied. */
        private Throwable write(long sequence) throws InterruptedException {
            Command put = Command.newBuilder().setPut(PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8(keyPrefix + sequence)).setValue(value)).build();
            try {
                propose.apply(put).get(writeTimeout.toNanos(), TimeUnit.NANOSECONDS);
                return null;
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                return new TimeoutException("no answer within " + writeTimeout);
            }
        }
    }
}
