package io.capstan.controller.telemetry;

import io.capstan.web.AdmissionBudget;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Every admission budget of the member (the web layer's and the gRPC API's), read when scraped:
 * {@code capstan_admission_in_use{budget}}, {@code capstan_admission_queued{budget}} and {@code
 * capstan_admission_refused_total{budget,reason}}. Stateless; the budgets keep the figures.
 */
final class AdmissionCollector implements MultiCollector {
    private final Supplier<List<AdmissionBudget>> budgets;

    AdmissionCollector(Supplier<List<AdmissionBudget>> budgets) {
        this.budgets = budgets;
    }

    @Override
    public MetricSnapshots collect() {
        GaugeSnapshot.Builder inUse =
                GaugeSnapshot.builder()
                        .name("capstan_admission_in_use")
                        .help("Requests holding a permit of the admission budget now");
        GaugeSnapshot.Builder queued =
                GaugeSnapshot.builder()
                        .name("capstan_admission_queued")
                        .help("Requests waiting for a permit of the admission budget now");
        CounterSnapshot.Builder refused =
                CounterSnapshot.builder()
                        .name("capstan_admission_refused")
                        .help(
                                "Requests the admission budget refused: its queue was full, the wait timed out, or it stopped");
        for (AdmissionBudget budget : budgets.get()) {
            Labels labels = Labels.of("budget", budget.name());
            inUse.dataPoint(
                    GaugeDataPointSnapshot.builder().labels(labels).value(budget.inUse()).build());
            queued.dataPoint(
                    GaugeDataPointSnapshot.builder().labels(labels).value(budget.queued()).build());
            for (AdmissionBudget.Refusal reason : AdmissionBudget.Refusal.values()) {
                refused.dataPoint(
                        CounterDataPointSnapshot.builder()
                                .labels(
                                        labels.add(
                                                "reason", reason.name().toLowerCase(Locale.ROOT)))
                                .value(budget.refused(reason))
                                .build());
            }
        }
        return MetricSnapshots.of(inUse.build(), queued.build(), refused.build());
    }
}
