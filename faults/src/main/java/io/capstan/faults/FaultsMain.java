package io.capstan.faults;

import io.capstan.faults.check.CheckReport;
import io.capstan.faults.check.HistoryChecker;
import io.capstan.faults.history.HistoryFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code capstan-faults run ...}: one fault run (see {@link FaultRun}); {@code capstan-faults check
 * FILE}: checks a kept history again. Exit codes: 0 pass, 1 violation, 2 usage, 3 inconclusive (a
 * check gave up), 4 the cluster did not start, 5 the harness itself failed (its error on stderr).
 */
@Command(
        name = "capstan-faults",
        subcommands = {FaultsMain.Run.class, FaultsMain.Check.class},
        mixinStandardHelpOptions = true,
        description = "Fault runs against etcd v3 clusters, and their checker.")
public final class FaultsMain {
    private FaultsMain() {}

    public static void main(String[] args) {
        System.exit(
                new CommandLine(new FaultsMain())
                        .setExecutionExceptionHandler(
                                (e, command, parsed) -> {
                                    System.err.println("the harness failed: " + e);
                                    e.printStackTrace();
                                    return FaultRun.HARNESS_FAILED;
                                })
                        .execute(args));
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = "Runs a cluster under seeded faults and checks its history.")
    static final class Run implements Callable<Integer> {
        @Option(
                names = "--seed",
                required = true,
                description = "Seed of the workload and the fault schedule.")
        long seed;

        @Option(
                names = "--seconds",
                defaultValue = "60",
                description = "Length of the workload under faults.")
        int seconds;

        @Option(names = "--members", defaultValue = "3", description = "3 or 5.")
        int members;

        @Option(names = "--target", defaultValue = "capstan", description = "capstan or etcd.")
        String target;

        @Option(
                names = "--dir",
                required = true,
                description = "Directory of the run (history, logs, data).")
        Path dir;

        @Option(
                names = "--root",
                defaultValue = ".",
                description = "The project's checkout (scripts/capstan).")
        Path root;

        @Option(
                names = "--etcd",
                defaultValue = "/usr/bin/etcd",
                description = "etcd's executable.")
        Path etcd;

        @Option(
                names = "--clients",
                defaultValue = "5",
                description = "Concurrent register clients.")
        int clients;

        @Option(names = "--keys", defaultValue = "6", description = "Register keys.")
        int keys;

        @Option(
                names = "--faults",
                split = ",",
                converter = KindConverter.class,
                description =
                        "Kinds of fault (default all): kill, kill-leader, pause, pause-leader, kill-all, "
                                + "isolate-leader, partition, drop-one-way (these three on Capstan only), member-change, "
                                + "member-change-learner.")
        List<FaultKind> faults;

        @Override
        public Integer call() throws Exception {
            if (members != 3 && members != 5
                    || !List.of("capstan", "etcd").contains(target)
                    || seconds < 1
                    || clients < 1
                    || keys < 1) {
                System.err.println(
                        "usage: --members 3|5, --target capstan|etcd, --seconds, --clients, --keys >= 1");
                return 2;
            }
            List<FaultKind> kinds =
                    faults == null || faults.isEmpty() ? Arrays.asList(FaultKind.values()) : faults;
            FaultRun.Settings settings =
                    new FaultRun.Settings(
                            seed,
                            Duration.ofSeconds(seconds),
                            members,
                            target,
                            dir.toAbsolutePath(),
                            root.toAbsolutePath(),
                            etcd,
                            clients,
                            keys,
                            kinds);
            return new FaultRun(settings, System.out).run();
        }
    }

    /** Reads a fault kind by its label. */
    static final class KindConverter implements CommandLine.ITypeConverter<FaultKind> {
        @Override
        public FaultKind convert(String label) {
            return FaultKind.parse(label);
        }
    }

    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description = "Checks a kept history file again.")
    static final class Check implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "A run's history.jsonl.")
        Path file;

        @Option(
                names = "--budget-seconds",
                defaultValue = "300",
                description = "Time the searches may take.")
        int budgetSeconds;

        @Override
        public Integer call() throws Exception {
            CheckReport r =
                    new HistoryChecker(Duration.ofSeconds(budgetSeconds), 4_000_000)
                            .check(HistoryFile.read(file));
            System.out.println("operations: " + r.outcomes());
            System.out.println("linearizable: " + r.linearizable());
            System.out.println("violations: " + r.violations());
            r.details().forEach(d -> System.out.println("  " + d));
            r.inconclusive().forEach(d -> System.out.println("not checked: " + d));
            return r.violated()
                    ? FaultRun.VIOLATION
                    : r.conclusive() ? FaultRun.PASS : FaultRun.INCONCLUSIVE;
        }
    }
}
