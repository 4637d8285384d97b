package io.capstan.controller.bench;

import com.google.protobuf.ByteString;
import io.capstan.controller.ExitCodes;
import io.capstan.controller.TextTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The {@code --endpoints} mode of {@code capstan bench}: one workload against any etcd v3 gRPC
 * endpoints (a real etcd or Capstan, through the same client code), at each client count in turn,
 * printed as a table or, with {@code --json}, as {@link Results}.
 *
 * <p>Each client count is one point: the clients run closed loops ({@link ClosedLoop}) over at most
 * {@code --connections} shared connections, all to the leader (found with Maintenance.Status) or
 * spread over the endpoints in turn; a warm-up, then the measured window. Every phase is bounded:
 * each call has a deadline, watch creation and preloading have timeouts. With {@code
 * --sample-pids}, the CPU time those processes used in each window is sampled from {@code /proc}.
 *
 * <p>A picocli mixin of {@code capstan bench}, which owns the options it shares with the in-JVM
 * mode. Used by the command's thread only.
 */
public final class EndpointMode {
    private static final Logger log = LoggerFactory.getLogger(EndpointMode.class);

    private static final int MAX_CONNECTIONS = 1024;
    private static final int MAX_WATCHERS = 1024;
    private static final int MAX_KEYS = 100_000;
    private static final int DEFAULT_VALUE_BYTES = 255;

    /** Bounds each call, the Status calls and the creation of the watches. */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    /** Puts in flight while the range workloads' keys are written. */
    private static final int PRELOAD_LANES = 32;

    private static final Duration PRELOAD_TIMEOUT = Duration.ofMinutes(5);

    /**
     * The keys the range workloads read, {@code bench/range/0} onwards: the same in every run, so
     * that a run over the JSON gateway can read what a gRPC run wrote.
     */
    static final String RANGE_KEYS = "bench/range/";

    private static final List<String> OWN_OPTIONS =
            List.of(
                    "--connections",
                    "--target",
                    "--watchers",
                    "--keys",
                    "--sample-pids",
                    "--label",
                    "--json");

    /**
     * The options the in-JVM mode shares, their ranges already checked by the bench command.
     *
     * @param workload {@code --workload}, null when not given
     * @param valueBytes {@code --value-bytes}, null when not given
     */
    public record Shared(
            String workload,
            List<Integer> clients,
            int warmupSeconds,
            int seconds,
            Integer valueBytes) {}

    @Option(
            names = "--endpoints",
            split = ",",
            paramLabel = "HOST:PORT",
            description =
                    "Drive these etcd v3 gRPC endpoints (a real etcd or Capstan) instead of clusters in this JVM;"
                            + " workloads: put (the default), range-linearizable, range-serializable, txn-cas, watch.")
    List<String> endpoints;

    @Option(
            names = "--connections",
            paramLabel = "M",
            defaultValue = "16",
            description =
                    "With --endpoints: gRPC connections the clients share, at most one per client (1..1024);"
                            + " default: ${DEFAULT-VALUE}.")
    int connections;

    @Option(
            names = "--target",
            paramLabel = "T",
            defaultValue = "leader",
            description =
                    "With --endpoints: leader (every connection to the endpoint that leads) or all (connections"
                            + " spread over the endpoints in turn); default: ${DEFAULT-VALUE}.")
    String target;

    @Option(
            names = "--watchers",
            paramLabel = "W",
            defaultValue = "16",
            description =
                    "With --workload watch: watch streams that each receive every put (1..1024);"
                            + " default: ${DEFAULT-VALUE}.")
    int watchers;

    @Option(
            names = "--keys",
            paramLabel = "K",
            defaultValue = "1000",
            description =
                    "With the range workloads: keys bench/range/0, 1, ... written first, then read in turn"
                            + " (1..100000); default: ${DEFAULT-VALUE}.")
    int keys;

    @Option(
            names = "--sample-pids",
            split = ",",
            paramLabel = "PID",
            description =
                    "With --endpoints: local processes (the members) whose CPU time in each measured window is"
                            + " read from /proc and reported, summed, per operation.")
    List<Long> samplePids;

    @Option(
            names = "--label",
            paramLabel = "NAME",
            defaultValue = "endpoints",
            description =
                    "With --endpoints: the name of the system measured, copied into the output;"
                            + " default: ${DEFAULT-VALUE}.")
    String label;

    @Option(
            names = "--json",
            description = "With --endpoints: print the results as JSON instead of a table.")
    boolean json;

    /** Whether {@code --endpoints} was given. */
    public boolean selected() {
        return endpoints != null;
    }

    /**
     * Refuses this mode's own options when {@code --endpoints} was not given.
     *
     * @throws ParameterException naming the first such option
     */
    public void refuseWithoutEndpoints(CommandSpec spec) {
        for (String option : OWN_OPTIONS) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new ParameterException(spec.commandLine(), option + " needs --endpoints");
            }
        }
    }

    /**
     * Runs the workload at every client count and prints the results.
     *
     * @return {@link ExitCodes#OK}, or {@link ExitCodes#FAILED} when the endpoints could not be set
     *     up for a point (the points measured before are still printed)
     * @throws ParameterException for bad options (exit code 2)
     */
    public int run(CommandSpec spec, Shared shared) throws InterruptedException {
        Plan plan = plan(spec, shared);
        PrintWriter out = spec.commandLine().getOut();
        Machine machine = Machine.now();
        if (!json) {
            out.printf(
                    Locale.ROOT,
                    "capstan bench: %s against %s (%s), %d s warm-up then %d s measured per run%n",
                    describe(plan),
                    plan.endpoints.stream()
                            .map(Endpoint::toString)
                            .collect(Collectors.joining(",")),
                    target.equals("all")
                            ? "connections spread over them"
                            : "connections to the leader",
                    shared.warmupSeconds(),
                    shared.seconds());
            out.println(machine.describe());
            out.flush();
        }
        List<Point> points = new ArrayList<>();
        String failure = null;
        int maxClients = shared.clients().stream().mapToInt(Integer::intValue).max().orElseThrow();
        int opened = Math.min(connections, maxClients);
        try (Connections open =
                Connections.open(plan.endpoints, opened, target.equals("all"), CALL_TIMEOUT)) {
            log.info("{} connection(s) to {}", opened, open.targets().stream().distinct().toList());
            Measure measure = new Measure(plan, open, System::nanoTime);
            measure.prepare();
            for (int n : shared.clients()) {
                Point point = measure.point(n);
                log.info(
                        "{} clients: {} ops/s, p50 {} ms, p99 {} ms, errors {}",
                        n,
                        perSecond(point.operationsPerSecond()),
                        millis(point.latency(), Latency::p50),
                        millis(point.latency(), Latency::p99),
                        point.errors());
                points.add(point);
            }
        } catch (Connections.SetupException e) {
            log.error("{}", e.getMessage(), e.getCause());
            failure = e.getMessage();
        }
        Results results =
                new Results(
                        label,
                        "grpc",
                        plan.workload.option,
                        plan.endpoints.stream().map(Endpoint::toString).toList(),
                        target,
                        plan.valueBytes,
                        (double) shared.warmupSeconds(),
                        machine,
                        points);
        if (json) {
            out.println(results.toJson());
        } else {
            out.println();
            table(results).print(out);
        }
        if (failure != null && !json) {
            out.println("FAILED: " + failure);
        }
        out.flush();
        return failure == null ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** The checked options of one run. */
    private record Plan(
            Workload workload,
            List<Endpoint> endpoints,
            int valueBytes,
            Duration warmup,
            Duration measure,
            ProcessCpu cpu) {}

    private Plan plan(CommandSpec spec, Shared shared) {
        List<Endpoint> parsed;
        try {
            parsed = Endpoint.parseAll(endpoints);
        } catch (IllegalArgumentException e) {
            throw usage(spec, "--endpoints: " + e.getMessage());
        }
        String name = shared.workload() == null ? Workload.PUT.option : shared.workload();
        Workload workload =
                Workload.named(name)
                        .orElseThrow(
                                () ->
                                        usage(
                                                spec,
                                                "--workload: unknown workload '"
                                                        + name
                                                        + "' with --endpoints; allowed: "
                                                        + Workload.names()));
        if (connections < 1 || connections > MAX_CONNECTIONS) {
            throw usage(
                    spec,
                    "--connections: "
                            + connections
                            + " is out of range; must be 1.."
                            + MAX_CONNECTIONS);
        }
        if (!target.equals("leader") && !target.equals("all")) {
            throw usage(spec, "--target: unknown target '" + target + "'; allowed: leader, all");
        }
        if (watchers < 1 || watchers > MAX_WATCHERS) {
            throw usage(
                    spec,
                    "--watchers: " + watchers + " is out of range; must be 1.." + MAX_WATCHERS);
        }
        if (given(spec, "--watchers") && workload != Workload.WATCH) {
            throw usage(spec, "--watchers needs --workload watch");
        }
        if (keys < 1 || keys > MAX_KEYS) {
            throw usage(spec, "--keys: " + keys + " is out of range; must be 1.." + MAX_KEYS);
        }
        if (given(spec, "--keys")
                && workload != Workload.RANGE_LINEARIZABLE
                && workload != Workload.RANGE_SERIALIZABLE) {
            throw usage(spec, "--keys needs --workload range-linearizable or range-serializable");
        }
        int valueBytes = shared.valueBytes() == null ? DEFAULT_VALUE_BYTES : shared.valueBytes();
        if (workload == Workload.WATCH && valueBytes < Operations.TIMESTAMP_BYTES) {
            throw usage(
                    spec,
                    "--value-bytes: "
                            + valueBytes
                            + " is too small for --workload watch; each value carries its"
                            + " send time in its first "
                            + Operations.TIMESTAMP_BYTES
                            + " bytes");
        }
        ProcessCpu cpu = null;
        if (samplePids != null) {
            for (long pid : samplePids) {
                if (!Files.isReadable(Path.of("/proc", Long.toString(pid), "stat"))) {
                    throw usage(spec, "--sample-pids: no process " + pid + " to read in /proc");
                }
            }
            cpu = new ProcessCpu(Path.of("/proc"), samplePids);
        }
        return new Plan(
                workload,
                parsed,
                valueBytes,
                Duration.ofSeconds(shared.warmupSeconds()),
                Duration.ofSeconds(shared.seconds()),
                cpu);
    }

    private static boolean given(CommandSpec spec, String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private static ParameterException usage(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private String describe(Plan plan) {
        return switch (plan.workload) {
            case PUT -> "puts of " + plan.valueBytes + "-byte values to new keys";
            case RANGE_LINEARIZABLE -> "linearizable ranges of one key among " + keys;
            case RANGE_SERIALIZABLE -> "serializable ranges of one key among " + keys;
            case TXN_CAS ->
                    "compare-and-set transactions ("
                            + plan.valueBytes
                            + "-byte values), a key per client";
            case WATCH ->
                    "puts of "
                            + plan.valueBytes
                            + "-byte values watched by "
                            + watchers
                            + " watch streams";
        };
    }

    /** The points of one run, on its connections; used by the command's thread. */
    private final class Measure {
        private final Plan plan;
        private final Connections connections;
        private final LongSupplier clock;
        private final ClosedLoop loop;
        private final Operations operations;

        /** Names this run's keys apart from any earlier run's on the same cluster. */
        private final String prefix;

        private final List<ByteString> rangeKeys = new ArrayList<>();

        Measure(Plan plan, Connections connections, LongSupplier clock) {
            this.plan = plan;
            this.connections = connections;
            this.clock = clock;
            this.loop = new ClosedLoop(clock);
            byte[] value = new byte[plan.valueBytes];
            SecureRandom random = new SecureRandom();
            random.nextBytes(value);
            this.operations = new Operations(connections, CALL_TIMEOUT, ByteString.copyFrom(value));
            byte[] id = new byte[4];
            random.nextBytes(id);
            this.prefix =
                    "bench/" + HexFormat.of().formatHex(id) + "/" + plan.workload.option + "/";
        }

        /** Writes the keys the range workloads read. */
        void prepare() throws Connections.SetupException, InterruptedException {
            if (plan.workload != Workload.RANGE_LINEARIZABLE
                    && plan.workload != Workload.RANGE_SERIALIZABLE) {
                return;
            }
            for (int k = 0; k < keys; k++) {
                rangeKeys.add(Operations.key(RANGE_KEYS + k));
            }
            log.info("writing the {} keys the ranges read", keys);
            try {
                operations
                        .preload(rangeKeys, PRELOAD_LANES)
                        .get(PRELOAD_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw new Connections.SetupException(
                        "writing the keys to read failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new Connections.SetupException(
                        "writing the keys to read took longer than " + PRELOAD_TIMEOUT, e);
            }
        }

        Point point(int n) throws Connections.SetupException, InterruptedException {
            String pointPrefix = prefix + n + "/";
            WatchFanOut fanOut =
                    plan.workload == Workload.WATCH
                            ? WatchFanOut.open(
                                    connections, watchers, pointPrefix, clock, CALL_TIMEOUT)
                            : null;
            try {
                List<ClosedLoop.Client> clients = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    clients.add(
                            switch (plan.workload) {
                                case PUT -> operations.puts(i, pointPrefix);
                                case RANGE_LINEARIZABLE -> operations.ranges(i, rangeKeys, false);
                                case RANGE_SERIALIZABLE -> operations.ranges(i, rangeKeys, true);
                                case TXN_CAS -> operations.compareAndSets(i, pointPrefix);
                                case WATCH -> operations.timestampedPuts(i, pointPrefix, clock);
                            });
                }
                ClosedLoop.Window window = loop.window(plan.warmup, plan.measure);
                if (fanOut != null) {
                    fanOut.measure(window);
                }
                CpuWindow cpu = new CpuWindow(plan.cpu);
                ClosedLoop.Outcome outcome =
                        loop.run(window, clients, CALL_TIMEOUT.plusSeconds(5), cpu);
                Map<String, Long> errors = new TreeMap<>(outcome.errors());
                Long events = null;
                Latency delivery = null;
                if (fanOut != null) {
                    fanOut.errors().forEach((kind, count) -> errors.merge(kind, count, Long::sum));
                    Histogram delivered = fanOut.delivery();
                    events = fanOut.events();
                    delivery = Latency.ofNanos(delivered);
                }
                double seconds = window.seconds();
                return new Point(
                        plan.workload.option,
                        n,
                        Math.min(n, connections.targets().size()),
                        fanOut == null ? 0 : watchers,
                        seconds,
                        outcome.operations(),
                        outcome.operations() / seconds,
                        Latency.ofNanos(outcome.latencies()),
                        errors,
                        events,
                        delivery,
                        cpu.micros());
            } finally {
                if (fanOut != null) {
                    fanOut.close();
                }
            }
        }
    }

    /**
     * The CPU time the sampled processes use between the window's start and end; null without any.
     */
    private static final class CpuWindow implements ClosedLoop.WindowHook {
        private final ProcessCpu cpu;
        private long start = -1;
        private Long micros;

        CpuWindow(ProcessCpu cpu) {
            this.cpu = cpu;
        }

        @Override
        public void started() {
            start = read();
        }

        @Override
        public void ended() {
            long end = read();
            micros = start < 0 || end < 0 ? null : end - start;
        }

        Long micros() {
            return micros;
        }

        private long read() {
            if (cpu == null) {
                return -1;
            }
            try {
                return cpu.micros();
            } catch (IOException | RuntimeException e) {
                log.warn("cannot read the CPU time of the sampled processes: {}", e.toString());
                return -1;
            }
        }
    }

    /** The results for people: one row per point. */
    static TextTable table(Results results) {
        TextTable table =
                new TextTable(
                        "workload",
                        "clients",
                        "conns",
                        "ops/s",
                        "p50 ms",
                        "p90 ms",
                        "p99 ms",
                        "p99.9 ms",
                        "max ms",
                        "errors",
                        "cpu us/op",
                        "events/s",
                        "delivery p50/p99 ms");
        for (Point p : results.points()) {
            Latency l = p.latency();
            Double cpu = p.cpuMicrosPerOperation();
            table.row(
                    p.workload(),
                    Integer.toString(p.clients()),
                    Integer.toString(p.connections()),
                    perSecond(p.operationsPerSecond()),
                    millis(l, Latency::p50),
                    millis(l, Latency::p90),
                    millis(l, Latency::p99),
                    millis(l, Latency::p999),
                    millis(l, Latency::max),
                    errors(p.errors()),
                    cpu == null ? "-" : String.format(Locale.ROOT, "%.0f", cpu),
                    p.events() == null ? "-" : perSecond(p.events() / p.seconds()),
                    p.delivery() == null
                            ? "-"
                            : millis(p.delivery(), Latency::p50)
                                    + " / "
                                    + millis(p.delivery(), Latency::p99));
        }
        return table;
    }

    static String errors(Map<String, Long> errors) {
        if (errors.isEmpty()) {
            return "0";
        }
        return errors.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    private static String perSecond(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }

    private static String millis(Latency latency, ToDoubleFunction<Latency> percentile) {
        return latency == null
                ? "-"
                : String.format(Locale.ROOT, "%.2f", percentile.applyAsDouble(latency));
    }
}
