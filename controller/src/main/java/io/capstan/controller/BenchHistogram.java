package io.capstan.controller;

/**
 * Latencies in nanoseconds, counted in fixed memory (4,608 buckets) however many are recorded.
 * Values below 256 ns are kept exactly; above, each power of two is split into 128 equal
 * buckets, so a percentile is reported within 0.4 % of a recorded value. Values from
 * 2<sup>42</sup> ns (73 minutes) up count as that bound.
 *
 * <p>Not thread-safe: one writer thread owns an instance while it records, and hands it over
 * (through the completion of its task) before anyone reads or merges it.
 */
final class BenchHistogram {
    private static final int SUB_BITS = 7;
    private static final int SUB_BUCKETS = 1 << SUB_BITS;
    /** Below this, one bucket per nanosecond. */
    private static final int EXACT = 2 * SUB_BUCKETS;
    private static final int MAX_EXPONENT = 42;
    private static final long MAX_VALUE = (1L << MAX_EXPONENT) - 1;

    private final long[] counts = new long[EXACT + (MAX_EXPONENT - SUB_BITS - 1) * SUB_BUCKETS];
    private long total;

    /** Counts one latency; a negative one is a caller's bug. */
    void record(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("negative latency: " + nanos + " ns");
        }
        counts[index(Math.min(nanos, MAX_VALUE))]++;
        total++;
    }

    /** Adds every count of {@code other}, which is left unchanged. */
    void add(BenchHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
    }

    long count() {
        return total;
    }

    /**
     * The smallest recorded value (to the bucket's precision) that at least {@code fraction} of
     * all recorded values do not exceed.
     *
     * @param fraction in (0, 1], e.g. 0.99 for p99
     * @throws IllegalStateException when nothing was recorded
     */
    long percentile(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("percentile fraction must be in (0, 1]: " + fraction);
        }
        if (total == 0) {
            throw new IllegalStateException("no latencies recorded");
        }
        long rank = Math.max(1, (long) Math.ceil(fraction * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return value(i);
            }
        }
        throw new AssertionError("counts add up to " + seen + ", total says " + total);
    }

    private static int index(long value) {
        if (value < EXACT) {
            return (int) value;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(value);
        int shift = exponent - SUB_BITS;
        int top = (int) (value >>> shift);
        return EXACT + (exponent - SUB_BITS - 1) * SUB_BUCKETS + (top - SUB_BUCKETS);
    }

    /** The middle of bucket {@code index}: no recorded value in it is further away than half its width. */
    private static long value(int index) {
        if (index < EXACT) {
            return index;
        }
        int offset = index - EXACT;
        int shift = offset / SUB_BUCKETS + 1;
        long lower = (long) (SUB_BUCKETS + offset % SUB_BUCKETS) << shift;
        return lower + (1L << shift) / 2;
    }
}
