package io.capstan.controller.telemetry;

import io.capstan.raft.MemberStats;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The member's Raft, keyspace, lease, watch and snapshot figures, read from its {@link
 * RaftNode#status()} and {@link RaftNode#stats()} when scraped (the raft module keeps them in
 * atomics; nothing here locks or waits for the apply thread). Stateless.
 */
final class RaftCollector implements MultiCollector {
    private final RaftNode raft;
    private final Clock clock;

    RaftCollector(RaftNode raft, Clock clock) {
        this.raft = raft;
        this.clock = clock;
    }

    @Override
    public MetricSnapshots collect() {
        NodeStatus status = raft.status();
        MemberStats stats = raft.stats();
        List<MetricSnapshot> out = new ArrayList<>();
        out.add(gauge("capstan_raft_term", "Current Raft term", status.term()));
        out.add(
                gauge(
                        "capstan_raft_commit_index",
                        "Highest log index this member knows committed",
                        status.commitIndex()));
        out.add(
                gauge(
                        "capstan_raft_applied_index",
                        "Highest log index applied to this member's state",
                        status.appliedIndex()));
        out.add(role(status.role()));
        out.add(
                gauge(
                        "capstan_raft_has_leader",
                        "1 when this member knows a leader, else 0",
                        status.leaderId().isPresent() ? 1 : 0));
        out.add(
                counter(
                        "capstan_raft_leader_changes_seen",
                        "New leaders this member has seen",
                        stats.leaderChanges()));
        out.add(
                counter(
                        "capstan_raft_proposals",
                        "Commands this member proposed to Raft",
                        stats.proposals()));
        out.add(
                counter(
                        "capstan_raft_proposals_failed",
                        "Proposed commands Raft did not apply (no leader, timed out, refused)",
                        stats.failedProposals()));
        out.add(applyLatency(stats.applyLatency()));
        out.add(
                gauge(
                        "capstan_keyspace_revision",
                        "The keyspace's latest revision",
                        stats.revision()));
        out.add(
                gauge(
                        "capstan_keyspace_compact_revision",
                        "Revisions below it are compacted away; -1 before the first compaction",
                        stats.compactRevision()));
        out.add(
                gauge(
                        "capstan_keyspace_keys",
                        "Keys that exist at the latest revision",
                        stats.keys()));
        out.add(
                gauge(
                        "capstan_keyspace_bytes",
                        "Bytes of existing keys and their latest values",
                        stats.keyBytes()));
        out.add(
                gauge(
                        "capstan_leases",
                        "Leases granted and not revoked or expired",
                        stats.leases()));
        out.add(gauge("capstan_watchers", "Watches open on this member", stats.watches()));
        out.add(
                gauge(
                        "capstan_watch_pending_events",
                        "Watch events not yet handed to their listeners",
                        stats.watchPendingEvents()));
        out.add(
                gauge(
                        "capstan_watch_pending_revisions",
                        "Applied revisions not yet dispatched to watches",
                        stats.watchPendingRevisions()));
        stats.snapshot()
                .ifPresent(
                        snapshot -> {
                            double age =
                                    Duration.between(snapshot.written(), clock.instant()).toMillis()
                                            / 1000.0;
                            out.add(
                                    gauge(
                                            "capstan_snapshot_age_seconds",
                                            "Time since the latest snapshot was written",
                                            Math.max(0, age)));
                            out.add(
                                    gauge(
                                            "capstan_snapshot_size_bytes",
                                            "Size of the latest snapshot file",
                                            snapshot.bytes()));
                            out.add(
                                    gauge(
                                            "capstan_snapshot_index",
                                            "Last log index the latest snapshot covers",
                                            snapshot.index()));
                        });
        return new MetricSnapshots(out);
    }

    private static GaugeSnapshot role(NodeStatus.Role current) {
        GaugeSnapshot.Builder role =
                GaugeSnapshot.builder()
                        .name("capstan_raft_role")
                        .help(
                                "1 for this member's Raft role (learner: a non-voting member), 0 for the others");
        for (NodeStatus.Role each : NodeStatus.Role.values()) {
            String name =
                    each == NodeStatus.Role.LISTENER
                            ? "learner"
                            : each.name().toLowerCase(Locale.ROOT);
            role.dataPoint(
                    GaugeDataPointSnapshot.builder()
                            .labels(Labels.of("role", name))
                            .value(each == current ? 1 : 0)
                            .build());
        }
        return role.build();
    }

    private static HistogramSnapshot applyLatency(List<MemberStats.Latency> latencies) {
        HistogramSnapshot.Builder histogram =
                HistogramSnapshot.builder()
                        .name("capstan_raft_apply_duration_seconds")
                        .help("Time the state machine took to apply one command, by command");
        for (MemberStats.Latency latency : latencies) {
            histogram.dataPoint(
                    HistogramDataPointSnapshot.builder()
                            .labels(Labels.of("command", latency.name()))
                            .classicHistogramBuckets(
                                    ClassicHistogramBuckets.of(
                                            latency.upperBounds(), latency.counts()))
                            .sum(latency.sumSeconds())
                            .build());
        }
        return histogram.build();
    }

    static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder()
                .name(name)
                .help(help)
                .dataPoint(GaugeDataPointSnapshot.builder().value(value).build())
                .build();
    }

    static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder()
                .name(name)
                .help(help)
                .dataPoint(CounterDataPointSnapshot.builder().value(value).build())
                .build();
    }
}
