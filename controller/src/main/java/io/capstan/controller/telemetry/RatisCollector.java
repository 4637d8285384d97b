package io.capstan.controller.telemetry;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Counter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Gauge;
import org.apache.ratis.thirdparty.com.codahale.metrics.Histogram;
import org.apache.ratis.thirdparty.com.codahale.metrics.Meter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Metric;
import org.apache.ratis.thirdparty.com.codahale.metrics.MetricRegistry;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;

/**
 * Ratis's own metrics of this member, bridged when scraped: Ratis keeps them in process-wide
 * registries (one per member and component: leader election, log appender, state machine, log
 * worker, server, ...) of the dropwizard library it relocates, which no exporter can read, so this
 * walks them.
 *
 * <p>Only the registries of this member (named {@code <node id>@<group>}) are read, so members
 * sharing a JVM each show their own. Names: {@code <application>_<component>_<metric>} in snake
 * case, e.g. Ratis's {@code ratis.leader_election.n1@group-….electionCount} becomes {@code
 * ratis_leader_election_election_count_total}. A per-peer metric (Ratis writes the peer id into its
 * name) gets the peer as a {@code peer} label instead, e.g. {@code
 * ratis_log_appender_follower_next_index{peer="n2"}}. Counters and meters become counters, numeric
 * gauges gauges, timers summaries in seconds ({@code _seconds}, quantiles 0.5, 0.95, 0.99 and count
 * over Ratis's sliding reservoir; no sum, which Ratis does not keep), histograms summaries. Metrics
 * of other kinds, and non-numeric gauges, are left out.
 *
 * <p>Stateless; the registries are Ratis's, safe to read from any thread.
 */
final class RatisCollector implements MultiCollector {
    private static final double[] QUANTILES = {0.5, 0.95, 0.99};
    private static final double NANOS_PER_SECOND = 1e9;

    private final String memberPrefix;
    private final Supplier<Collection<RatisMetricRegistry>> registries;

    /**
     * @param nodeId this member's Raft peer id
     * @param registries Ratis's registries, e.g. {@code
     *     MetricRegistries.global()::getMetricRegistries}
     */
    RatisCollector(String nodeId, Supplier<Collection<RatisMetricRegistry>> registries) {
        this.memberPrefix = nodeId + "@";
        this.registries = registries;
    }

    @Override
    public MetricSnapshots collect() {
        Families families = new Families();
        for (RatisMetricRegistry registry : registries.get()) {
            MetricRegistryInfo info = registry.getMetricRegistryInfo();
            if (!(registry instanceof RatisMetricRegistryImpl impl)
                    || !info.getPrefix().startsWith(memberPrefix)) {
                continue;
            }
            String dropwizardPrefix =
                    MetricRegistry.name(
                                    info.getApplicationName(),
                                    info.getMetricsComponentName(),
                                    info.getPrefix())
                            + ".";
            impl.getDropWizardMetricRegistry()
                    .getMetrics()
                    .forEach(
                            (name, metric) -> {
                                String shortName =
                                        name.startsWith(dropwizardPrefix)
                                                ? name.substring(dropwizardPrefix.length())
                                                : name;
                                RatisNames.Named named =
                                        RatisNames.of(
                                                info.getApplicationName(),
                                                info.getMetricsComponentName(),
                                                shortName);
                                families.add(named, metric, info.getMetricsDescription());
                            });
        }
        return families.snapshots();
    }

    /** The families being built, by Prometheus name; one scrape owns it. */
    private static final class Families {
        private final Map<String, CounterSnapshot.Builder> counters = new LinkedHashMap<>();
        private final Map<String, GaugeSnapshot.Builder> gauges = new LinkedHashMap<>();
        private final Map<String, SummarySnapshot.Builder> summaries = new LinkedHashMap<>();

        void add(RatisNames.Named named, Metric metric, String help) {
            Labels labels = named.peer().map(peer -> Labels.of("peer", peer)).orElse(Labels.EMPTY);
            if (metric instanceof Counter counter) {
                counter(named.name(), help)
                        .dataPoint(
                                CounterDataPointSnapshot.builder()
                                        .labels(labels)
                                        .value(counter.getCount())
                                        .build());
            } else if (metric instanceof Meter meter) {
                counter(named.name(), help)
                        .dataPoint(
                                CounterDataPointSnapshot.builder()
                                        .labels(labels)
                                        .value(meter.getCount())
                                        .build());
            } else if (metric instanceof Gauge<?> gauge && value(gauge) instanceof Number number) {
                gauge(named.name(), help)
                        .dataPoint(
                                GaugeDataPointSnapshot.builder()
                                        .labels(labels)
                                        .value(number.doubleValue())
                                        .build());
            } else if (metric instanceof Timer timer) {
                summary(named.name() + "_seconds", help)
                        .dataPoint(
                                summary(
                                        labels,
                                        timer.getCount(),
                                        timer.getSnapshot(),
                                        NANOS_PER_SECOND));
            } else if (metric instanceof Histogram histogram) {
                summary(named.name(), help)
                        .dataPoint(
                                summary(labels, histogram.getCount(), histogram.getSnapshot(), 1));
            }
        }

        private CounterSnapshot.Builder counter(String name, String help) {
            return counters.computeIfAbsent(
                    name, n -> CounterSnapshot.builder().name(n).help(help));
        }

        private GaugeSnapshot.Builder gauge(String name, String help) {
            return gauges.computeIfAbsent(name, n -> GaugeSnapshot.builder().name(n).help(help));
        }

        private SummarySnapshot.Builder summary(String name, String help) {
            return summaries.computeIfAbsent(
                    name, n -> SummarySnapshot.builder().name(n).help(help));
        }

        private static SummaryDataPointSnapshot summary(
                Labels labels, long count, Snapshot snapshot, double divisor) {
            List<Quantile> quantiles = new ArrayList<>(QUANTILES.length);
            for (double q : QUANTILES) {
                quantiles.add(new Quantile(q, snapshot.getValue(q) / divisor));
            }
            return SummaryDataPointSnapshot.builder()
                    .labels(labels)
                    .count(count)
                    .quantiles(Quantiles.of(quantiles))
                    .build();
        }

        /**
         * A gauge's value, or null when reading it failed (one bad gauge must not fail the scrape).
         */
        private static Object value(Gauge<?> gauge) {
            try {
                return gauge.getValue();
            } catch (RuntimeException e) {
                return null;
            }
        }

        /** Every family once; a name already taken by a family of another kind is dropped. */
        MetricSnapshots snapshots() {
            Map<String, MetricSnapshot> byName = new LinkedHashMap<>();
            counters.forEach((name, builder) -> byName.putIfAbsent(name, builder.build()));
            gauges.forEach((name, builder) -> byName.putIfAbsent(name, builder.build()));
            summaries.forEach((name, builder) -> byName.putIfAbsent(name, builder.build()));
            return new MetricSnapshots(byName.values());
        }
    }
}
