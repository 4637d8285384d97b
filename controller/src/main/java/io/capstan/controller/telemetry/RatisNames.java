package io.capstan.controller.telemetry;

import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prometheus names for Ratis's metrics: {@code <application>_<component>_<metric>} in snake case,
 * with the peer id that Ratis writes into the names of per-peer metrics taken out into a label.
 * Which names carry a peer is known per component (Ratis 3.3's {@code LogAppenderMetrics}, {@code
 * RaftServerMetricsImpl} and {@code GrpcServerMetrics}); any other name is kept whole.
 */
final class RatisNames {
    /** A Prometheus metric name and, for a per-peer metric, the peer. */
    record Named(String name, Optional<String> peer) {}

    /** Names of one component's per-peer metrics: group "peer" is the peer, "metric" the rest. */
    private record PeerRule(
            String application, String component, Pattern pattern, String metricPrefix) {}

    private static final List<PeerRule> PEER_RULES =
            List.of(
                    new PeerRule(
                            "ratis",
                            "log_appender",
                            Pattern.compile(
                                    "follower_(?<peer>.+)_(?<metric>next_index|match_index|rpc_response_time)"),
                            "follower_"),
                    new PeerRule(
                            "ratis",
                            "server",
                            Pattern.compile(
                                    "(?<peer>.+)_(?<metric>lastHeartbeatElapsedTime|peerCommitIndex)"),
                            ""),
                    new PeerRule(
                            "ratis_grpc",
                            "log_appender",
                            Pattern.compile(
                                    "(?<peer>.+?)_(?<metric>(latency|success_reply_count|not_leader_reply_count"
                                            + "|inconsistency_reply_count|append_entry_timeout_count|pending_log_requests_count)"
                                            + "(_heartbeat)?)"),
                            ""));

    private static final Pattern LOWER_UPPER = Pattern.compile("([a-z0-9])([A-Z])");
    private static final Pattern UPPER_RUN = Pattern.compile("([A-Z]+)([A-Z][a-z])");

    private RatisNames() {}

    static Named of(String application, String component, String metric) {
        String rest = metric;
        Optional<String> peer = Optional.empty();
        for (PeerRule rule : PEER_RULES) {
            if (!rule.application().equals(application) || !rule.component().equals(component)) {
                continue;
            }
            Matcher m = rule.pattern().matcher(metric);
            if (m.matches()) {
                peer = Optional.of(m.group("peer"));
                rest = rule.metricPrefix() + m.group("metric");
                break;
            }
        }
        String name =
                PrometheusNaming.sanitizeMetricName(
                        snake(application) + "_" + snake(component) + "_" + snake(rest));
        return new Named(name, peer);
    }

    /**
     * {@code electionCount} → {@code election_count}, {@code clientWatchMAJORITYRequest} → {@code
     * client_watch_majority_request}.
     */
    static String snake(String name) {
        String split =
                UPPER_RUN
                        .matcher(LOWER_UPPER.matcher(name).replaceAll("$1_$2"))
                        .replaceAll("$1_$2");
        return split.replaceAll("[^A-Za-z0-9_]+", "_").toLowerCase(Locale.ROOT);
    }
}
