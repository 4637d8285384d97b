package io.capstan.controller.telemetry;

import io.capstan.artifacts.Artifacts;
import io.capstan.raft.RaftNode;
import io.capstan.web.Admission;
import io.capstan.web.AdmissionBudget;
import io.capstan.web.Gate;
import io.capstan.web.RequestObserver;
import io.capstan.web.Route;
import io.grpc.ServerInterceptor;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.ratis.metrics.MetricRegistries;

/**
 * The metrics of one member, in its own Prometheus registry (never the client's global one), as
 * {@code GET /metrics} serves them in Prometheus's text format: web requests and gRPC calls as they
 * are observed; admission budgets, Raft, keyspace, lease, watch, snapshot and artifact figures,
 * Ratis's own registries of this member and the JVM's, read when scraped.
 *
 * <p>Thread safety: immutable once built; its parts may be used from any thread.
 */
public final class Metrics {
    /** Where the metrics are served on the web port. */
    public static final String PATH = "/metrics";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final HttpMetrics http;
    private final GrpcMetrics grpc;

    /**
     * @param raft the member whose Raft, keyspace and Ratis metrics are served
     * @param artifacts the member's artifacts, whose counters are served
     * @param budgets the member's admission budgets, asked at each scrape (so it may name parts
     *     built after this)
     * @param clock tells the snapshot's age
     */
    public Metrics(
            RaftNode raft,
            Artifacts artifacts,
            Supplier<List<AdmissionBudget>> budgets,
            Clock clock) {
        Objects.requireNonNull(raft, "raft");
        Objects.requireNonNull(artifacts, "artifacts");
        Objects.requireNonNull(budgets, "budgets");
        Objects.requireNonNull(clock, "clock");
        this.http = new HttpMetrics(registry);
        this.grpc = new GrpcMetrics(registry);
        registry.register(new AdmissionCollector(budgets));
        registry.register(new RaftCollector(raft, clock));
        registry.register(new ArtifactCollector(artifacts));
        registry.register(
                new RatisCollector(
                        raft.nodeId(), () -> MetricRegistries.global().getMetricRegistries()));
        JvmMetrics.builder().register(registry);
    }

    /**
     * {@code GET /metrics}, owned by {@code gate}. Exempt from admission, as the health probes are,
     * so that a scrape shows an overload instead of waiting in it.
     */
    public Route route(Gate gate) {
        return Route.get(PATH, gate, Admission.EXEMPT, new MetricsHandler(registry));
    }

    /** Counts the web layer's requests; give it to the web server. */
    public RequestObserver httpRequests() {
        return http;
    }

    /** Counts gRPC calls; intercept every service of the API server with it. */
    public ServerInterceptor grpcCalls() {
        return grpc;
    }
}
