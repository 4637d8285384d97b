package io.capstan.controller.telemetry;

import static io.capstan.controller.telemetry.RaftCollector.counter;
import static io.capstan.controller.telemetry.RaftCollector.gauge;

import io.capstan.artifacts.ArtifactStats;
import io.capstan.artifacts.Artifacts;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;

/**
 * The member's artifact figures, read from {@link Artifacts#stats()} (adders) when scraped.
 * Stateless.
 */
final class ArtifactCollector implements MultiCollector {
    private final Artifacts artifacts;

    ArtifactCollector(Artifacts artifacts) {
        this.artifacts = artifacts;
    }

    @Override
    public MetricSnapshots collect() {
        ArtifactStats stats = artifacts.stats();
        CounterSnapshot fetched =
                CounterSnapshot.builder()
                        .name("capstan_artifact_fetched_bytes")
                        .help(
                                "Artifact bytes this member received, from sources and from other members")
                        .dataPoint(
                                CounterDataPointSnapshot.builder()
                                        .labels(Labels.of("from", "source"))
                                        .value(stats.bytesFromSources())
                                        .build())
                        .dataPoint(
                                CounterDataPointSnapshot.builder()
                                        .labels(Labels.of("from", "member"))
                                        .value(stats.bytesFromPeers())
                                        .build())
                        .build();
        return new MetricSnapshots(
                List.of(
                        fetched,
                        counter(
                                "capstan_artifact_fetches_shared",
                                "Requests for an artifact that joined a fetch under way instead of starting one",
                                stats.fetchesShared()),
                        counter(
                                "capstan_artifact_verify_failures",
                                "Fetched or uploaded bytes, or stored files, whose SHA-256 was not their digest",
                                stats.verifyFailures()),
                        counter(
                                "capstan_artifact_uploaded_bytes",
                                "Bytes written to tus uploads on this member",
                                stats.bytesUploaded()),
                        gauge(
                                "capstan_artifact_uploads_open",
                                "Unfinished tus uploads on this member",
                                artifacts.openUploads())));
    }
}
