package io.capstan.controller.bench;

import org.HdrHistogram.Histogram;

/**
 * Percentiles of the latencies of one measured window, in milliseconds. There is no summary of
 * nothing: where no latency was recorded, a {@code null} stands for it.
 *
 * @param count how many latencies were recorded
 */
record Latency(long count, double p50, double p90, double p99, double p999, double max) {

    /** The summary of {@code nanos}, a histogram of nanoseconds; null when it holds nothing. */
    static Latency ofNanos(Histogram nanos) {
        if (nanos.getTotalCount() == 0) {
            return null;
        }
        return new Latency(
                nanos.getTotalCount(),
                millis(nanos.getValueAtPercentile(50)),
                millis(nanos.getValueAtPercentile(90)),
                millis(nanos.getValueAtPercentile(99)),
                millis(nanos.getValueAtPercentile(99.9)),
                millis(nanos.getMaxValue()));
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }
}
