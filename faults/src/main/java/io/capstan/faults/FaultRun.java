package io.capstan.faults;

import io.capstan.faults.check.CheckReport;
import io.capstan.faults.check.HistoryChecker;
import io.capstan.faults.history.HistoryFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One run: a cluster started as processes, the workload and the seeded faults for the run's length,
 * every fault healed, the final reads and the final log, the cluster killed, the history checked
 * and a summary printed. Owns everything it starts and stops all of it however it ends.
 *
 * <p>Threads: {@link #run} on the caller's (control) thread, which also drives the {@link Nemesis};
 * each client on a thread of its own; watches on gRPC's threads and one scheduler thread.
 */
final class FaultRun {
    /** Exit codes of a run. */
    static final int PASS = 0;

    static final int VIOLATION = 1;
    static final int INCONCLUSIVE = 3;
    static final int SETUP_FAILED = 4;
    static final int HARNESS_FAILED = 5;

    private static final Duration OP_DEADLINE = Duration.ofSeconds(2);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration WATCH_CATCH_UP = Duration.ofSeconds(30);
    private static final Duration LOG_READ = Duration.ofSeconds(60);
    private static final Duration SEARCH_BUDGET = Duration.ofSeconds(120);
    private static final int MAX_STATES_PER_KEY = 2_000_000;

    /**
     * @param seed draws the workload and the fault schedule
     * @param length how long the workload and faults run
     * @param members 3 or 5
     * @param target {@code capstan} or {@code etcd}
     * @param dir where the run keeps its history, fault log and the members' directories
     * @param root the project's checkout (Capstan's launcher)
     * @param etcd etcd's executable
     * @param clients register clients
     * @param keys register keys
     * @param faults the kinds of fault to draw from
     */
    record Settings(
            long seed,
            Duration length,
            int members,
            String target,
            Path dir,
            Path root,
            Path etcd,
            int clients,
            int keys,
            List<FaultKind> faults) {}

    private final Settings settings;
    private final PrintStream out;

    FaultRun(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    int run() throws IOException, InterruptedException {
        Path dir = settings.dir();
        Files.createDirectories(dir);
        List<MemberSlot> members = new ArrayList<>();
        for (int i = 1; i <= settings.members(); i++) {
            MemberSlot m = MemberSlot.of(i, dir);
            Files.createDirectories(m.dir());
            members.add(m);
        }
        Target target =
                settings.target().equals("etcd")
                        ? new EtcdTarget(settings.etcd())
                        : new CapstanTarget(settings.root(), secret());
        Path historyPath = dir.resolve("history.jsonl");
        String ending;
        Map<String, Integer> injected;
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (HistoryFile history = HistoryFile.create(historyPath);
                FaultLog faultLog = new FaultLog(dir.resolve("faults.jsonl"), history, out);
                Cluster cluster = new Cluster(target, members)) {
            cluster.startAll();
            if (!cluster.awaitHealthy(START_TIMEOUT)) {
                out.println(
                        "setup failed: the cluster did not elect a leader within "
                                + START_TIMEOUT.toSeconds()
                                + " s (seed "
                                + settings.seed()
                                + "); member logs in "
                                + dir);
                faultLog.note("the cluster did not start");
                return SETUP_FAILED;
            }
            faultLog.note("cluster up");
            List<FaultKind> kinds =
                    settings.faults().stream()
                            .filter(k -> !k.dropsMessages() || target.linkFaults().isPresent())
                            .toList();
            if (kinds.size() < settings.faults().size()) {
                faultLog.note(
                        "skipped, "
                                + target.name()
                                + " has no way to drop messages between members: "
                                + settings.faults().stream()
                                        .filter(k -> !kinds.contains(k))
                                        .map(FaultKind::label)
                                        .toList());
            }
            Nemesis nemesis =
                    new Nemesis(
                            cluster,
                            new MemberChanges(cluster, target, faultLog),
                            target.linkFaults(),
                            faultLog,
                            new Random(settings.seed()));
            ending = exercise(cluster, nemesis, kinds, history, faultLog, scheduler);
            injected = faultLog.injected();
        } finally {
            scheduler.shutdownNow();
        }
        CheckReport report =
                new HistoryChecker(SEARCH_BUDGET, MAX_STATES_PER_KEY)
                        .check(HistoryFile.read(historyPath));
        int code =
                ending != null || report.violated()
                        ? VIOLATION
                        : report.conclusive() ? PASS : INCONCLUSIVE;
        String summary = Summary.format(settings, injected, report, ending, code, dir);
        out.print(summary);
        Files.writeString(dir.resolve("summary.txt"), summary);
        if (code == PASS) {
            for (MemberSlot m : members) {
                Nemesis.wipe(m.dataDir());
            }
        }
        return code;
    }

    /**
     * The workload under faults, then every fault healed, the final reads and the final log.
     *
     * @return null when the cluster recovered and answered the final reads; else what went wrong
     */
    private String exercise(
            Cluster cluster,
            Nemesis nemesis,
            List<FaultKind> kinds,
            HistoryFile history,
            FaultLog faultLog,
            ScheduledExecutorService scheduler)
            throws IOException, InterruptedException {
        int size = settings.members();
        List<RecordingWatch> watchers =
                List.of(
                        new RecordingWatch(
                                "w0",
                                HistoryChecker.REGISTER_PREFIX,
                                cluster,
                                history,
                                scheduler,
                                0,
                                1,
                                Long.MAX_VALUE),
                        new RecordingWatch(
                                "w1", "", cluster, history, scheduler, 1 % size, 1, Long.MAX_VALUE),
                        new RecordingWatch(
                                "w2",
                                HistoryChecker.LEASE_PREFIX,
                                cluster,
                                history,
                                scheduler,
                                2 % size,
                                1,
                                Long.MAX_VALUE));
        watchers.forEach(RecordingWatch::open);
        try {
            return workload(cluster, nemesis, kinds, history, faultLog, scheduler, watchers);
        } finally {
            watchers.forEach(RecordingWatch::stop);
        }
    }

    /** The clients under the nemesis, then the final reads and log; see {@link #exercise}. */
    private String workload(
            Cluster cluster,
            Nemesis nemesis,
            List<FaultKind> kinds,
            HistoryFile history,
            FaultLog faultLog,
            ScheduledExecutorService scheduler,
            List<RecordingWatch> watchers)
            throws IOException, InterruptedException {
        long seed = settings.seed();
        int size = settings.members();
        List<String> keys = KvClient.registerKeys(settings.keys());
        Map<String, String> lastSeen = KvClient.sharedLastSeen();
        List<KvClient> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < settings.clients(); i++) {
            KvClient c =
                    new KvClient(
                            "c" + i,
                            cluster,
                            history,
                            seed * 1000 + i,
                            keys,
                            OP_DEADLINE,
                            lastSeen);
            clients.add(c);
            threads.add(new Thread(c, "client-c" + i));
        }
        LeaseClient leases =
                new LeaseClient("l0", cluster, history, seed * 1000 + 999, OP_DEADLINE);
        threads.add(new Thread(leases, "client-l0"));
        threads.forEach(Thread::start);
        try {
            nemesis.run(kinds, System.nanoTime() + settings.length().toNanos());
        } finally {
            nemesis.healAll();
        }
        faultLog.note("every fault healed");
        List<String> failures = nemesis.failures();
        boolean recovered = cluster.awaitHealthy(RECOVERY_TIMEOUT);
        faultLog.note(
                recovered
                        ? "cluster recovered"
                        : "cluster did not recover within " + RECOVERY_TIMEOUT.toSeconds() + " s");
        clients.forEach(KvClient::stop);
        leases.stop();
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(30).toMillis());
        }
        // Every lease ended now, so that none expires between the final reads and the end of the
        // final log.
        LeaseClient.revokeAndAsk("final", cluster, history, leases.granted(), OP_DEADLINE);
        KvClient reader =
                new KvClient("final", cluster, history, seed, keys, OP_DEADLINE, lastSeen);
        for (String key : keys) {
            reader.getAnywhere(key, 3 * size);
        }
        long head = reader.maxRevision();
        if (!recovered || head == 0) {
            return recovered
                    ? "the final reads failed on every member"
                    : "the cluster did not recover within "
                            + RECOVERY_TIMEOUT.toSeconds()
                            + " s of the last fault's end";
        }
        RecordingWatch log =
                new RecordingWatch(HistoryChecker.LOG, "", cluster, history, scheduler, 0, 1, head);
        log.open();
        try {
            log.finish(head, LOG_READ);
        } finally {
            log.stop();
        }
        for (RecordingWatch w : watchers) {
            w.finish(log.lastRevisionUnder(w.prefix()), WATCH_CATCH_UP);
        }
        return failures.isEmpty() ? null : String.join("; ", failures);
    }

    private static String secret() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }
}
