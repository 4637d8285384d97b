package io.capstan.controller.bench;

import com.google.protobuf.ByteString;
import io.capstan.controller.ExitCodes;
import io.capstan.controller.TextTable;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code capstan bench}: throughput and latency of one workload on local three-member clusters, for
 * each transport, auth setting and number of concurrent clients, printed as one table with the
 * machine's facts. Workloads:
 *
 * <ul>
 *   <li>{@code propose}: puts proposed to the leader's Raft node, through its state machine;
 *   <li>{@code put-api}: puts through the leader's etcd v3 gRPC API ({@code KV.Put});
 *   <li>{@code lock}: lock cycles through the leader's etcd API, {@code Lock} with the client's own
 *       lease then {@code Unlock}, every client contending for the same lock.
 * </ul>
 *
 * The API workloads run with etcd auth off, on (clients authenticate once, see {@link BenchApi}),
 * or both, each on a cluster of its own.
 *
 * <p>With {@code --endpoints} it starts no cluster: {@link EndpointMode} drives those etcd v3
 * endpoints (a real etcd or Capstan) instead, with workloads of its own. {@code capstan bench
 * report} ({@link ReportCommand}) compares the JSON results of such runs.
 *
 * <p>For each transport and auth setting it starts a cluster in this JVM ({@link BenchCluster}),
 * runs the client counts one after another on it ({@link BenchLoad}), then stops the cluster and
 * deletes its data. It ends by itself: every phase is bounded. While it runs, the members' log
 * lines below WARN are dropped ({@link BenchLogs}). Exit codes: 0 when every cluster formed and
 * every run could be set up, 1 when any could not (the other clusters still run and print), 2 for
 * bad options.
 */
@Command(
        name = "bench",
        description =
                "Measure throughput and latency of puts or lock cycles on local 3-member clusters, or of"
                        + " etcd v3 workloads on any endpoints (--endpoints).",
        subcommands = ReportCommand.class)
public final class BenchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(BenchCommand.class);

    private static final Set<String> TRANSPORTS = Set.of("web", "grpc");
    private static final Set<String> AUTH = Set.of("off", "on");
    private static final int MAX_CLIENTS = 1024;
    private static final int MAX_SECONDS = 3600;
    private static final int MAX_WARMUP_SECONDS = 600;
    private static final int MAX_VALUE_BYTES = 1 << 20;
    private static final int DEFAULT_VALUE_BYTES = 256;

    /** Options of the in-JVM clusters, which the endpoint mode has no use for. */
    private static final List<String> CLUSTER_OPTIONS = List.of("--transports", "--auth", "--dir");

    /** Bounds the members' start and, separately, the first election. */
    private static final Duration FORM_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Bounds each write and each API call. Longer than a member's own bound on one write (three
     * request timeouts), so that one answers first.
     */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    /** What a run measures, as {@code --workload} names it. */
    private enum Workload {
        PROPOSE("propose", "writes/s"),
        PUT_API("put-api", "writes/s"),
        LOCK("lock", "cycles/s");

        final String option;

        /** Heading of the throughput column. */
        final String unit;

        Workload(String option, String unit) {
            this.option = option;
            this.unit = unit;
        }

        boolean overApi() {
            return this != PROPOSE;
        }

        static Optional<Workload> named(String option) {
            return Arrays.stream(values()).filter(w -> w.option.equals(option)).findFirst();
        }
    }

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help and exit.")
    boolean help;

    @Option(
            names = "--workload",
            paramLabel = "W",
            description =
                    "What to measure: propose (puts proposed to the leader's Raft node; the default), put-api"
                            + " (puts through the leader's etcd API), lock (Lock then Unlock of one lock every client contends"
                            + " for, through the etcd API); with --endpoints, one of the workloads listed there.")
    String workload;

    @Option(
            names = {"--clients", "--writers"},
            split = ",",
            paramLabel = "N",
            defaultValue = "1,16,64",
            description =
                    "Concurrent closed-loop clients of each run (1..1024); default: ${DEFAULT-VALUE}.")
    List<Integer> clients;

    @Option(
            names = "--auth",
            split = ",",
            paramLabel = "A",
            defaultValue = "off",
            description =
                    "etcd auth on the clusters of the API workloads: off, on, or off,on (a cluster each);"
                            + " default: ${DEFAULT-VALUE}.")
    List<String> auth;

    @Option(
            names = "--seconds",
            paramLabel = "N",
            defaultValue = "10",
            description = "Measured seconds of each run (1..3600); default: ${DEFAULT-VALUE}.")
    int seconds;

    @Option(
            names = "--warmup-seconds",
            paramLabel = "N",
            defaultValue = "3",
            description = "Unmeasured seconds before each run (0..600); default: ${DEFAULT-VALUE}.")
    int warmupSeconds;

    @Option(
            names = "--transports",
            split = ",",
            paramLabel = "T",
            defaultValue = "web,grpc",
            description = "Raft transports to measure: web, grpc; default: ${DEFAULT-VALUE}.")
    List<String> transports;

    @Option(
            names = "--value-bytes",
            paramLabel = "N",
            description =
                    "Size of each put's value (1..1048576; puts only); default: 256, with --endpoints 255.")
    Integer valueBytes;

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            description =
                    "Existing directory under which each cluster's data lives while it runs;"
                            + " default: the system's temporary directory.")
    Path dir;

    @Mixin EndpointMode endpointMode;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        validateShared();
        if (endpointMode.selected()) {
            for (String option : CLUSTER_OPTIONS) {
                if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                    throw usage(option + " applies to clusters in this JVM, not to --endpoints");
                }
            }
            return endpointMode.run(
                    spec,
                    new EndpointMode.Shared(workload, clients, warmupSeconds, seconds, valueBytes));
        }
        endpointMode.refuseWithoutEndpoints(spec);
        Workload chosen = validate();
        int putBytes = valueBytes == null ? DEFAULT_VALUE_BYTES : valueBytes;
        Path parent = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"));
        SecureRandom random = new SecureRandom();
        byte[] bytes = new byte[putBytes];
        random.nextBytes(bytes);
        ByteString value = ByteString.copyFrom(bytes);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                Locale.ROOT,
                "capstan bench: %s, %d-member clusters on 127.0.0.1, "
                        + "%d s warm-up then %d s measured per run%n",
                describe(chosen, putBytes),
                BenchCluster.SIZE,
                warmupSeconds,
                seconds);
        out.println(Machine.now().describe());
        out.flush();

        List<BenchResult> results = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        ExecutorService pool =
                clientPool(clients.stream().mapToInt(Integer::intValue).max().orElseThrow());
        try (BenchLogs quiet = BenchLogs.quietMembers()) {
            BenchLoad load =
                    new BenchLoad(
                            pool,
                            System::nanoTime,
                            Duration.ofSeconds(warmupSeconds),
                            Duration.ofSeconds(seconds));
            for (String transport : transports) {
                for (String authSetting : auth) {
                    boolean authOn = authSetting.equals("on");
                    String label =
                            transport
                                    + " cluster"
                                    + (chosen.overApi() ? " with auth " + authSetting : "");
                    log.info("starting a {}-member {}", BenchCluster.SIZE, label);
                    try (BenchCluster cluster =
                            BenchCluster.start(parent, transport, FORM_TIMEOUT, random)) {
                        log.info("{} formed; leader {}", label, cluster.leader().nodeId());
                        measure(chosen, cluster, transport, authOn, load, value, random, results);
                    } catch (BenchCluster.FormationException e) {
                        log.error("{}", e.getMessage(), e.getCause());
                        failures.add(e.getMessage());
                    } catch (BenchLoad.SetupException e) {
                        log.error("{}: {}", label, e.getMessage(), e.getCause());
                        failures.add(label + ": " + e.getMessage());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }

        out.println();
        table(chosen, results).print(out);
        failures.forEach(f -> out.println("FAILED: " + f));
        out.flush();
        return failures.isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * Runs every client count of {@code workload} on {@code cluster}, adding each result as it
     * completes.
     */
    private void measure(
            Workload workload,
            BenchCluster cluster,
            String transport,
            boolean authOn,
            BenchLoad load,
            ByteString value,
            SecureRandom random,
            List<BenchResult> results)
            throws BenchLoad.SetupException, InterruptedException {
        BenchApi api =
                workload.overApi()
                        ? BenchApi.connect(cluster.leaderApi(), authOn, CALL_TIMEOUT, random)
                        : null;
        // Locks are held through leases that must outlive a run: its warm-up, window, and last
        // operation.
        Duration leaseTtl =
                Duration.ofSeconds(warmupSeconds + seconds).plus(CALL_TIMEOUT.multipliedBy(2));
        for (int n : clients) {
            String keys = BenchApi.PREFIX + transport + "/" + n + "/";
            BenchLoad.Clients runClients =
                    switch (workload) {
                        case PROPOSE ->
                                BenchLoad.proposals(
                                        cluster.leader()::propose, keys, value, CALL_TIMEOUT);
                        case PUT_API -> api.puts(keys, value);
                        case LOCK -> api.locks(BenchApi.PREFIX + "lock/" + n, leaseTtl);
                    };
            BenchResult result = load.run(transport, authOn, n, runClients);
            log.info(
                    "{}{}, {} clients: {} {}, p50 {} ms, p99 {} ms, {} errors",
                    transport,
                    workload.overApi() ? ", auth " + onOff(result.auth()) : "",
                    n,
                    perSecond(result),
                    workload.unit,
                    millis(result.p50Millis()),
                    millis(result.p99Millis()),
                    result.errors());
            results.add(result);
        }
    }

    /**
     * Checks the options both modes share: bad ones end the command with exit code 2 and name the
     * rule.
     */
    private void validateShared() {
        if (clients.isEmpty()) {
            throw usage("--clients: give at least one client count");
        }
        for (int n : clients) {
            if (n < 1 || n > MAX_CLIENTS) {
                throw usage(
                        "--clients: "
                                + n
                                + " is out of range; each count must be 1.."
                                + MAX_CLIENTS);
            }
        }
        if (new HashSet<>(clients).size() != clients.size()) {
            throw usage("--clients: " + clients + " lists a count twice; each must appear once");
        }
        if (seconds < 1 || seconds > MAX_SECONDS) {
            throw usage("--seconds: " + seconds + " is out of range; must be 1.." + MAX_SECONDS);
        }
        if (warmupSeconds < 0 || warmupSeconds > MAX_WARMUP_SECONDS) {
            throw usage(
                    "--warmup-seconds: "
                            + warmupSeconds
                            + " is out of range; must be 0.."
                            + MAX_WARMUP_SECONDS);
        }
        if (valueBytes != null && (valueBytes < 1 || valueBytes > MAX_VALUE_BYTES)) {
            throw usage(
                    "--value-bytes: "
                            + valueBytes
                            + " is out of range; must be 1.."
                            + MAX_VALUE_BYTES);
        }
    }

    /**
     * Checks the options of the clusters in this JVM, as {@link #validateShared} does.
     *
     * @return the workload {@code --workload} names
     */
    private Workload validate() {
        String name = workload == null ? Workload.PROPOSE.option : workload;
        Workload chosen =
                Workload.named(name)
                        .orElseThrow(
                                () ->
                                        usage(
                                                "--workload: unknown workload '"
                                                        + name
                                                        + "'; allowed: propose, put-api, lock"));
        for (String setting : auth) {
            if (!AUTH.contains(setting)) {
                throw usage("--auth: unknown setting '" + setting + "'; allowed: off, on");
            }
        }
        if (new HashSet<>(auth).size() != auth.size()) {
            throw usage("--auth: " + auth + " lists a setting twice; each must appear once");
        }
        if (auth.contains("on") && !chosen.overApi()) {
            throw usage(
                    "--auth: on needs --workload put-api or lock; propose bypasses the etcd API");
        }
        for (String transport : transports) {
            if (!TRANSPORTS.contains(transport)) {
                throw usage(
                        "--transports: unknown transport '" + transport + "'; allowed: web, grpc");
            }
        }
        if (new HashSet<>(transports).size() != transports.size()) {
            throw usage(
                    "--transports: "
                            + transports
                            + " lists a transport twice; each must appear once");
        }
        if (dir != null && !Files.isDirectory(dir)) {
            throw usage("--dir: " + dir + " is not an existing directory");
        }
        return chosen;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Every client of a run needs its own thread, so the pool holds as many as the largest run. */
    private static ExecutorService clientPool(int threads) {
        AtomicInteger next = new AtomicInteger();
        return Executors.newFixedThreadPool(
                threads,
                r -> {
                    Thread t = new Thread(r, "capstan-bench-client-" + next.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    private static String describe(Workload chosen, int valueBytes) {
        return switch (chosen) {
            case PROPOSE -> valueBytes + "-byte puts";
            case PUT_API -> valueBytes + "-byte puts through the etcd API";
            case LOCK ->
                    "lock cycles through the etcd API (Lock, then Unlock; every client on one lock, a lease each)";
        };
    }

    private static TextTable table(Workload workload, List<BenchResult> results) {
        TextTable table =
                workload.overApi()
                        ? new TextTable(
                                "transport",
                                "auth",
                                "clients",
                                workload.unit,
                                "p50 ms",
                                "p99 ms",
                                "errors")
                        : new TextTable(
                                "transport",
                                "writers",
                                workload.unit,
                                "p50 ms",
                                "p99 ms",
                                "errors");
        for (BenchResult r : results) {
            String count = Integer.toString(r.clients());
            String p50 = millis(r.p50Millis());
            String p99 = millis(r.p99Millis());
            String errors = Long.toString(r.errors());
            if (workload.overApi()) {
                table.row(r.transport(), onOff(r.auth()), count, perSecond(r), p50, p99, errors);
            } else {
                table.row(r.transport(), count, perSecond(r), p50, p99, errors);
            }
        }
        return table;
    }

    private static String onOff(boolean auth) {
        return auth ? "on" : "off";
    }

    private static String perSecond(BenchResult r) {
        return String.format(Locale.ROOT, "%.1f", r.operationsPerSecond());
    }

    private static String millis(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2f", value);
    }
}
