/**
 * {@code capstan bench}: benchmarks of Capstan, and of any etcd v3 endpoints, a real etcd or
 * Capstan, through the same client code, and the report that compares their results.
 *
 * <p>{@link io.capstan.controller.bench.BenchCommand} is the command. Without {@code --endpoints}
 * it starts a throwaway cluster of daemons in this process ({@code BenchCluster}) and drives its
 * leader's Raft node directly ({@code BenchLoad}) or its etcd API ({@code BenchApi}), and prints or
 * writes the results ({@code BenchResult}, {@code BenchLogs}).
 *
 * <p>{@link io.capstan.controller.bench.EndpointMode} is the {@code --endpoints} mode of {@code
 * capstan bench}: closed-loop clients over a few gRPC connections, one workload at a time (puts,
 * linearizable or serializable ranges, compare-and-set transactions, watch fan-out), with latency
 * percentiles from HdrHistogram and errors counted by gRPC status code. {@link
 * io.capstan.controller.bench.ReportCommand} ({@code capstan bench report}) reads the results of
 * several such runs, and of wrk runs over the JSON gateway, and writes a Markdown report and a PNG
 * chart.
 *
 * <p>Threads: the command's thread sets a run up, waits for it and prints. While a run measures,
 * every client's next call is started from the gRPC callback that completed its previous one, so
 * each client has one call in flight and its own state is handed from callback to callback; what
 * they share (the latency recorder, the error counts) is safe for concurrent writers.
 */
package io.capstan.controller.bench;
