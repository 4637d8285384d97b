package io.capstan.controller.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * What one closed-loop run of a workload measured at one client count, as {@code --json} writes it
 * and {@code capstan bench report} reads it (also from the wrk script of the JSON gateway, which
 * writes the same fields).
 *
 * @param workload the workload's name, e.g. {@code put}
 * @param clients concurrent closed-loop clients (for {@code watch}: writers)
 * @param connections gRPC connections (or HTTP connections) the clients shared
 * @param watchers watch streams receiving every write ({@code watch} only, else 0)
 * @param seconds length of the measured window
 * @param operations operations completed in the window
 * @param operationsPerSecond operations / seconds
 * @param latency latency of those operations; null when none completed
 * @param errors failed operations by gRPC status code name (or another kind, e.g. {@code
 *     COMPARE_FAILED})
 * @param events watch events received in the window, over all watchers ({@code watch} only)
 * @param delivery from a put's send to its event's arrival at a watcher ({@code watch} only)
 * @param cpuMicros CPU time (user + system) the sampled processes used in the window, summed; null
 *     when no process was sampled
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Point(
        String workload,
        int clients,
        int connections,
        int watchers,
        double seconds,
        long operations,
        double operationsPerSecond,
        Latency latency,
        Map<String, Long> errors,
        Long events,
        Latency delivery,
        Long cpuMicros) {

    Point {
        errors = Map.copyOf(errors == null ? Map.of() : errors);
    }

    long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** CPU microseconds per completed operation; null when not sampled or nothing completed. */
    Double cpuMicrosPerOperation() {
        return cpuMicros == null || operations == 0 ? null : (double) cpuMicros / operations;
    }
}
