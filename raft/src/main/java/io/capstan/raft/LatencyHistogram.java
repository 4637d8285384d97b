package io.capstan.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Durations counted into fixed buckets, lock-free on both sides: the one thread that records (the
 * apply thread) never waits for a reader, and readers see each bucket's count as of some moment.
 * Bounds run from 50 µs to 1 s, what applying one command takes on a healthy member.
 */
final class LatencyHistogram {
    private static final double[] BOUNDS_SECONDS = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1
    };

    private final long[] boundsNanos = new long[BOUNDS_SECONDS.length];
    private final AtomicLongArray counts = new AtomicLongArray(BOUNDS_SECONDS.length + 1);
    private final AtomicLong sumNanos = new AtomicLong();

    LatencyHistogram() {
        for (int i = 0; i < BOUNDS_SECONDS.length; i++) {
            boundsNanos[i] = Math.round(BOUNDS_SECONDS[i] * 1e9);
        }
    }

    void record(long nanos) {
        int bucket = 0;
        while (bucket < boundsNanos.length && nanos > boundsNanos[bucket]) {
            bucket++;
        }
        counts.incrementAndGet(bucket);
        sumNanos.addAndGet(nanos);
    }

    boolean isEmpty() {
        for (int i = 0; i < counts.length(); i++) {
            if (counts.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    MemberStats.Latency read(String name) {
        List<Double> bounds = new ArrayList<>(BOUNDS_SECONDS.length + 1);
        List<Long> read = new ArrayList<>(BOUNDS_SECONDS.length + 1);
        for (int i = 0; i < counts.length(); i++) {
            bounds.add(i < BOUNDS_SECONDS.length ? BOUNDS_SECONDS[i] : Double.POSITIVE_INFINITY);
            read.add(counts.get(i));
        }
        return new MemberStats.Latency(name, bounds, read, sumNanos.get() / 1e9);
    }
}
