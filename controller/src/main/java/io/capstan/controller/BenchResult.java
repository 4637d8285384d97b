package io.capstan.controller;

import java.time.Duration;

/**
 * What one benchmark run measured: {@code writers} closed-loop writers over one transport for
 * {@code measured}, after the warm-up.
 *
 * @param transport "web" or "grpc"
 * @param writers concurrent writers
 * @param writes writes acknowledged within the measured window
 * @param errors writes that failed or timed out within the measured window
 * @param measured length of the measured window
 * @param p50Millis median latency of the acknowledged writes; NaN when there were none
 * @param p99Millis 99th percentile latency of the acknowledged writes; NaN when there were none
 */
record BenchResult(String transport, int writers, long writes, long errors, Duration measured,
                   double p50Millis, double p99Millis) {

    double writesPerSecond() {
        return writes / (measured.toNanos() / 1e9);
    }
}
