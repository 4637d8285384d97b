package io.capstan.controller;

import com.google.protobuf.ByteString;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code capstan bench}: write throughput and latency of puts through the state machine of a
 * local three-member cluster, for each transport and each number of concurrent writers, printed
 * as one table with the machine's facts.
 *
 * <p>For each transport it starts a cluster in this JVM ({@link BenchCluster}), runs the writer
 * counts one after another on it through the leader ({@link BenchLoad}), then stops the cluster
 * and deletes its data. It ends by itself: every phase is bounded. While it runs, the members'
 * log lines below WARN are dropped ({@link BenchLogs}). Exit codes: 0 when every
 * cluster formed, 1 when any did not (the other transports still run and print), 2 for bad
 * options.
 */
@Command(name = "bench",
        description = "Measure writes/s and p50/p99 latency of puts on local 3-member clusters.")
final class BenchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(BenchCommand.class);

    private static final Set<String> TRANSPORTS = Set.of("web", "grpc");
    private static final int MAX_WRITERS = 1024;
    private static final int MAX_SECONDS = 3600;
    private static final int MAX_WARMUP_SECONDS = 600;
    private static final int MAX_VALUE_BYTES = 1 << 20;
    /** Bounds the members' start and, separately, the first election. */
    private static final Duration FORM_TIMEOUT = Duration.ofSeconds(60);
    /** Longer than a member's own bound on one write (three request timeouts), so that one answers first. */
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--writers", split = ",", paramLabel = "N", defaultValue = "1,16,64",
            description = "Concurrent closed-loop writers of each run (1..1024); default: ${DEFAULT-VALUE}.")
    List<Integer> writers;

    @Option(names = "--seconds", paramLabel = "N", defaultValue = "10",
            description = "Measured seconds of each run (1..3600); default: ${DEFAULT-VALUE}.")
    int seconds;

    @Option(names = "--warmup-seconds", paramLabel = "N", defaultValue = "3",
            description = "Unmeasured seconds before each run (0..600); default: ${DEFAULT-VALUE}.")
    int warmupSeconds;

    @Option(names = "--transports", split = ",", paramLabel = "T", defaultValue = "web,grpc",
            description = "Raft transports to measure: web, grpc; default: ${DEFAULT-VALUE}.")
    List<String> transports;

    @Option(names = "--value-bytes", paramLabel = "N", defaultValue = "256",
            description = "Size of each put's value (1..1048576); default: ${DEFAULT-VALUE}.")
    int valueBytes;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Existing directory under which each cluster's data lives while it runs;"
                    + " default: the system's temporary directory.")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        validate();
        Path parent = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"));
        SecureRandom random = new SecureRandom();
        byte[] value = new byte[valueBytes];
        random.nextBytes(value);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "capstan bench: %d-byte puts, %d-member clusters on 127.0.0.1, "
                        + "%d s warm-up then %d s measured per run%n",
                valueBytes, BenchCluster.SIZE, warmupSeconds, seconds);
        out.println(machineFacts());
        out.flush();

        List<BenchResult> results = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        ExecutorService pool = writerPool(writers.stream().mapToInt(Integer::intValue).max().orElseThrow());
        try (BenchLogs quiet = BenchLogs.quietMembers()) {
            BenchLoad load = new BenchLoad(pool, System::nanoTime, ByteString.copyFrom(value),
                    Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(seconds), WRITE_TIMEOUT);
            for (String transport : transports) {
                log.info("starting a {}-member cluster over the {} transport", BenchCluster.SIZE, transport);
                try (BenchCluster cluster = BenchCluster.start(parent, transport, FORM_TIMEOUT, random)) {
                    log.info("{} cluster formed; leader {}", transport, cluster.leader().nodeId());
                    for (int n : writers) {
                        BenchResult result = load.run(transport, n, cluster.leader()::propose);
                        log.info("{}", row(result));
                        results.add(result);
                    }
                } catch (BenchCluster.FormationException e) {
                    log.error("{}", e.getMessage(), e.getCause());
                    failures.add(e.getMessage());
                }
            }
        } finally {
            pool.shutdownNow();
        }

        out.println();
        out.println(String.format(Locale.ROOT, "%-9s  %7s  %10s  %8s  %8s  %6s",
                "transport", "writers", "writes/s", "p50 ms", "p99 ms", "errors"));
        results.forEach(r -> out.println(row(r)));
        failures.forEach(f -> out.println("FAILED: " + f));
        out.flush();
        return failures.isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** Bad options end the command with exit code 2 and a message naming the option and the rule. */
    private void validate() {
        if (writers.isEmpty()) {
            throw usage("--writers: give at least one writer count");
        }
        for (int n : writers) {
            if (n < 1 || n > MAX_WRITERS) {
                throw usage("--writers: " + n + " is out of range; each count must be 1.." + MAX_WRITERS);
            }
        }
        if (new HashSet<>(writers).size() != writers.size()) {
            throw usage("--writers: " + writers + " lists a count twice; each must appear once");
        }
        if (seconds < 1 || seconds > MAX_SECONDS) {
            throw usage("--seconds: " + seconds + " is out of range; must be 1.." + MAX_SECONDS);
        }
        if (warmupSeconds < 0 || warmupSeconds > MAX_WARMUP_SECONDS) {
            throw usage("--warmup-seconds: " + warmupSeconds + " is out of range; must be 0.." + MAX_WARMUP_SECONDS);
        }
        for (String transport : transports) {
            if (!TRANSPORTS.contains(transport)) {
                throw usage("--transports: unknown transport '" + transport + "'; allowed: web, grpc");
            }
        }
        if (new HashSet<>(transports).size() != transports.size()) {
            throw usage("--transports: " + transports + " lists a transport twice; each must appear once");
        }
        if (valueBytes < 1 || valueBytes > MAX_VALUE_BYTES) {
            throw usage("--value-bytes: " + valueBytes + " is out of range; must be 1.." + MAX_VALUE_BYTES);
        }
        if (dir != null && !Files.isDirectory(dir)) {
            throw usage("--dir: " + dir + " is not an existing directory");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Every writer of a run needs its own thread, so the pool holds as many as the largest run. */
    private static ExecutorService writerPool(int threads) {
        AtomicInteger next = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "capstan-bench-writer-" + next.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private static String row(BenchResult r) {
        return String.format(Locale.ROOT, "%-9s  %7d  %10.1f  %8s  %8s  %6d",
                r.transport(), r.writers(), r.writesPerSecond(), millis(r.p50Millis()), millis(r.p99Millis()), r.errors());
    }

    private static String millis(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2f", value);
    }

    private static String machineFacts() {
        Runtime runtime = Runtime.getRuntime();
        return String.format(Locale.ROOT, "machine: %d cores, %s %s (%s), max heap %d MiB, %s %s %s",
                runtime.availableProcessors(), System.getProperty("java.vm.name"), Runtime.version(),
                System.getProperty("java.vm.vendor"), runtime.maxMemory() >> 20,
                System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"));
    }
}
