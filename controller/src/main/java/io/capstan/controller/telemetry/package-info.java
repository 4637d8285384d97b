/**
 * Metrics and the request id of gRPC calls: what an operator watches a member by.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.controller.telemetry.Metrics} (one member's Prometheus registry: the {@code GET
 * /metrics} route, the observer of web requests, the gRPC interceptor) and {@link
 * io.capstan.controller.telemetry.GrpcRequestIds} (a gRPC call's request id in the log context).
 * Everything else is package-private.
 *
 * <h2>What is measured where</h2>
 *
 * <ul>
 *   <li>Web requests: the web layer reports each finished request ({@code RequestObserver}); {@code
 *       HttpMetrics} counts it into a histogram by route template, method and code.
 *   <li>gRPC calls: {@code GrpcMetrics}, an interceptor on every etcd service, by service, method
 *       and status code.
 *   <li>Raft and the keyspace: {@code RaftCollector} reads the member's status and its {@link
 *       io.capstan.raft.MemberStats} when scraped; the raft module keeps those figures in atomics
 *       and lock-free histograms that its apply thread writes without ever waiting.
 *   <li>Ratis's own metrics: {@code RatisCollector} walks Ratis's registries (dropwizard, inside
 *       Ratis's relocated libraries) when scraped and renames what it finds.
 *   <li>The JVM and process: the Prometheus client's JVM instrumentation.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * The registry and every collector are fixed once {@link io.capstan.controller.telemetry.Metrics}
 * is built. Histograms and counters are the Prometheus client's (thread-safe; an observation may
 * wait briefly while a scrape reads them, which is why none is used on the apply thread).
 * Collectors run on the thread that serves {@code GET /metrics} (a web worker thread) and only
 * read.
 */
package io.capstan.controller.telemetry;
