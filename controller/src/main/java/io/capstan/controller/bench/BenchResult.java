package io.capstan.controller.bench;

import java.time.Duration;

/**
 * What one benchmark run measured: {@code clients} closed-loop clients on one cluster for {@code
 * measured}, after the warm-up.
 *
 * @param transport "web" or "grpc", the Raft transport of the cluster
 * @param auth whether the clients went through etcd authentication (API workloads only)
 * @param clients concurrent clients
 * @param operations operations (a put, or a lock cycle) completed within the measured window
 * @param errors operations that failed or timed out within the measured window
 * @param measured length of the measured window
 * @param p50Millis median latency of the completed operations; NaN when there were none
 * @param p99Millis 99th percentile latency of the completed operations; NaN when there were none
 */
record BenchResult(
        String transport,
        boolean auth,
        int clients,
        long operations,
        long errors,
        Duration measured,
        double p50Millis,
        double p99Millis) {

    double operationsPerSecond() {
        return operations / (measured.toNanos() / 1e9);
    }
}
