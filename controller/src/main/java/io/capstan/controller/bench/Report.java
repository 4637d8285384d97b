package io.capstan.controller.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The Markdown comparison of two systems' benchmark results: a row per API, workload and client
 * count with both systems' throughput, their ratio (candidate / baseline), p50 / p99 latency, CPU
 * per operation and errors; the watch workload's delivery; the members' start-up and memory; and
 * the machine. Pure: built from parsed results, renders text. Immutable.
 */
final class Report {
    /**
     * One API, workload and client count, with each system's point there (either may be missing).
     */
    record Row(String api, String workload, int clients, Point baseline, Point candidate) {
        /**
         * Candidate / baseline operations per second; empty when either is missing or the baseline
         * did nothing.
         */
        Optional<Double> ratio() {
            if (baseline == null || candidate == null || baseline.operationsPerSecond() <= 0) {
                return Optional.empty();
            }
            return Optional.of(candidate.operationsPerSecond() / baseline.operationsPerSecond());
        }
    }

    private final String baseline;
    private final String candidate;
    private final List<Results> results;
    private final List<SystemFacts> systems;

    /**
     * @param baseline the label ratios divide by (e.g. {@code etcd})
     * @param candidate the label being compared (e.g. {@code capstan})
     */
    Report(String baseline, String candidate, List<Results> results, List<SystemFacts> systems) {
        this.baseline = baseline;
        this.candidate = candidate;
        this.results = List.copyOf(results);
        this.systems =
                systems.stream()
                        .sorted(
                                Comparator.comparing((SystemFacts s) -> !s.label().equals(baseline))
                                        .thenComparing(SystemFacts::label))
                        .toList();
    }

    /**
     * Every row, gRPC before the gateway, workloads in {@link Workload}'s order, then by clients.
     */
    List<Row> rows() {
        Map<String, Point[]> byKey = new LinkedHashMap<>();
        for (Results r : results) {
            int side = r.label().equals(baseline) ? 0 : r.label().equals(candidate) ? 1 : -1;
            if (side < 0) {
                continue;
            }
            for (Point p : r.points()) {
                byKey.computeIfAbsent(
                                        r.api() + "\n" + p.workload() + "\n" + p.clients(),
                                        k -> new Point[2])[side] =
                        p;
            }
        }
        List<Row> rows = new ArrayList<>();
        byKey.forEach(
                (key, pair) -> {
                    String[] parts = key.split("\n");
                    rows.add(
                            new Row(
                                    parts[0],
                                    parts[1],
                                    Integer.parseInt(parts[2]),
                                    pair[0],
                                    pair[1]));
                });
        rows.sort(
                Comparator.comparing((Row r) -> r.api().equals("grpc") ? 0 : 1)
                        .thenComparing(Row::api)
                        .thenComparingInt(r -> Workload.rankOf(r.workload()))
                        .thenComparing(Row::workload)
                        .thenComparingInt(Row::clients));
        return rows;
    }

    /** The report; {@code chart} is the chart's file name, linked when not null. */
    String markdown(String chart) {
        StringBuilder md = new StringBuilder();
        md.append("# ")
                .append(candidate)
                .append(" and ")
                .append(baseline)
                .append(" side by side\n\n");
        machine().ifPresent(m -> md.append(m).append("\n\n"));
        md.append(
                        "Each row is one point: closed-loop clients for the measured window after a warm-up. "
                                + "Ratios are ")
                .append(candidate)
                .append(" / ")
                .append(baseline)
                .append(
                        " of operations per second. "
                                + "CPU is user + system time of the three members, summed, per completed operation. "
                                + "`grpc` is `capstan bench --endpoints`; `gateway` is wrk over the JSON gateway.\n\n");
        List<Row> rows = rows();
        md.append("| workload | API | clients | ")
                .append(baseline)
                .append(" ops/s | ")
                .append(candidate)
                .append(" ops/s | ")
                .append(candidate)
                .append(" / ")
                .append(baseline)
                .append(" | ")
                .append(baseline)
                .append(" p50 / p99 ms | ")
                .append(candidate)
                .append(" p50 / p99 ms | ")
                .append(baseline)
                .append(" CPU µs/op | ")
                .append(candidate)
                .append(" CPU µs/op | errors ")
                .append(baseline)
                .append(" / ")
                .append(candidate)
                .append(" |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row row : rows) {
            md.append("| ")
                    .append(Workload.titleOf(row.workload()))
                    .append(" | ")
                    .append(row.api())
                    .append(" | ")
                    .append(row.clients())
                    .append(" | ")
                    .append(cell(row.baseline(), p -> count(p.operationsPerSecond())))
                    .append(" | ")
                    .append(cell(row.candidate(), p -> count(p.operationsPerSecond())))
                    .append(" | ")
                    .append(row.ratio().map(Report::ratio).orElse("-"))
                    .append(" | ")
                    .append(cell(row.baseline(), Report::p50p99))
                    .append(" | ")
                    .append(cell(row.candidate(), Report::p50p99))
                    .append(" | ")
                    .append(cell(row.baseline(), Report::cpu))
                    .append(" | ")
                    .append(cell(row.candidate(), Report::cpu))
                    .append(" | ")
                    .append(cell(row.baseline(), Report::errors))
                    .append(" / ")
                    .append(cell(row.candidate(), Report::errors))
                    .append(" |\n");
        }
        appendDelivery(md, rows);
        appendErrors(md, rows);
        appendSystems(md);
        if (chart != null) {
            md.append("\n![throughput and p99 latency against clients](")
                    .append(chart)
                    .append(")\n");
        }
        return md.toString();
    }

    private void appendDelivery(StringBuilder md, List<Row> rows) {
        List<Row> watched =
                rows.stream()
                        .filter(r -> delivered(r.baseline()) || delivered(r.candidate()))
                        .toList();
        if (watched.isEmpty()) {
            return;
        }
        Point any =
                Optional.ofNullable(watched.get(0).baseline()).orElse(watched.get(0).candidate());
        md.append("\n## Watch delivery\n\nFrom a put's send to its event's arrival at each of ")
                .append(any.watchers())
                .append(" watch streams (each stream receives every put).\n\n");
        md.append("| API | writers | ")
                .append(baseline)
                .append(" events/s | ")
                .append(candidate)
                .append(" events/s | ")
                .append(baseline)
                .append(" delivery p50 / p99 ms | ")
                .append(candidate)
                .append(" delivery p50 / p99 ms |\n|---|---|---:|---:|---:|---:|\n");
        for (Row row : watched) {
            md.append("| ")
                    .append(row.api())
                    .append(" | ")
                    .append(row.clients())
                    .append(" | ")
                    .append(cell(row.baseline(), p -> count(p.events() / p.seconds())))
                    .append(" | ")
                    .append(cell(row.candidate(), p -> count(p.events() / p.seconds())))
                    .append(" | ")
                    .append(cell(row.baseline(), p -> latency(p.delivery())))
                    .append(" | ")
                    .append(cell(row.candidate(), p -> latency(p.delivery())))
                    .append(" |\n");
        }
    }

    private void appendErrors(StringBuilder md, List<Row> rows) {
        List<String> lines = new ArrayList<>();
        for (Row row : rows) {
            for (Point p : new Point[] {row.baseline(), row.candidate()}) {
                if (p != null && p.errorCount() > 0) {
                    String system = p == row.baseline() ? baseline : candidate;
                    lines.add(
                            "- "
                                    + system
                                    + ", "
                                    + Workload.titleOf(row.workload())
                                    + " over "
                                    + row.api()
                                    + " at "
                                    + row.clients()
                                    + " clients: "
                                    + EndpointMode.errors(p.errors()));
                }
            }
        }
        if (!lines.isEmpty()) {
            md.append("\n## Errors\n\n").append(String.join("\n", lines)).append("\n");
        }
    }

    private void appendSystems(StringBuilder md) {
        if (systems.isEmpty()) {
            return;
        }
        md.append(
                "\n## Members\n\n| system | version | cold start to first write | restart to first write | "
                        + "peak RSS per member |\n|---|---|---:|---:|---|\n");
        for (SystemFacts s : systems) {
            md.append("| ")
                    .append(s.label())
                    .append(" | ")
                    .append(Objects.requireNonNullElse(s.version(), "-"))
                    .append(" | ")
                    .append(seconds(s.coldStartSeconds()))
                    .append(" | ")
                    .append(seconds(s.restartSeconds()))
                    .append(" | ")
                    .append(
                            s.peakRssKiB().isEmpty()
                                    ? "-"
                                    : s.peakRssKiB().stream()
                                            .map(kib -> count(kib / 1024.0) + " MiB")
                                            .collect(Collectors.joining(", ")))
                    .append(" |\n");
        }
    }

    /** The machine the gRPC runs saw, and the range of load averages at their starts. */
    private Optional<String> machine() {
        List<Machine> machines =
                results.stream().map(Results::machine).filter(Objects::nonNull).toList();
        if (machines.isEmpty()) {
            return Optional.empty();
        }
        Machine first = machines.get(0);
        DoubleSummaryStatistics load =
                machines.stream()
                        .mapToDouble(Machine::loadAverage)
                        .filter(l -> l >= 0)
                        .summaryStatistics();
        String loads =
                load.getCount() == 0
                        ? "unknown"
                        : String.format(Locale.ROOT, "%.2f to %.2f", load.getMin(), load.getMax());
        return Optional.of(
                String.format(
                        Locale.ROOT,
                        "Machine: %d cores, %s, %s; load average (1 min) when each gRPC "
                                + "run began: %s.",
                        first.cores(),
                        first.os(),
                        first.jvm(),
                        loads));
    }

    private static boolean delivered(Point p) {
        return p != null && p.delivery() != null && p.events() != null;
    }

    private static String cell(Point p, Function<Point, String> format) {
        return p == null ? "-" : format.apply(p);
    }

    /**
     * Latency of the completed operations: none when nothing completed (wrk times its failed
     * answers too).
     */
    private static String p50p99(Point p) {
        return p.operations() == 0 ? "-" : latency(p.latency());
    }

    private static String latency(Latency l) {
        return l == null ? "-" : millis(l.p50()) + " / " + millis(l.p99());
    }

    /**
     * How many operations failed; a point with neither successes nor failures got no answer at all.
     */
    private static String errors(Point p) {
        return p.operations() == 0 && p.errorCount() == 0 ? "no answer" : count(p.errorCount());
    }

    private static String cpu(Point p) {
        Double micros = p.cpuMicrosPerOperation();
        return micros == null ? "-" : count(micros);
    }

    /** A whole number with thousands separators: 1,116. */
    static String count(double value) {
        return String.format(Locale.ROOT, "%,.0f", value);
    }

    /** Milliseconds to about three significant digits: 0.85, 19.8, 219. */
    static String millis(double value) {
        if (value < 10) {
            return String.format(Locale.ROOT, "%.2f", value);
        }
        return String.format(Locale.ROOT, value < 100 ? "%.1f" : "%,.0f", value);
    }

    static String ratio(double value) {
        return String.format(Locale.ROOT, value < 10 ? "%.2f" : "%.1f", value);
    }

    private static String seconds(Double value) {
        return value == null ? "-" : String.format(Locale.ROOT, "%.2f s", value);
    }
}
