package io.capstan.controller;

import io.capstan.artifacts.TestSource;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Reports artifact figures of a 3-member cluster in one JVM on 127.0.0.1 (real ports, the web
 * transport): tus upload and download MB/s on one member, the MB/s of a download from a member that
 * first fetches the bytes from another, and the time 50 concurrent registrations of one 4 MiB
 * artifact take until every member holds it. A program, not a test: it asserts nothing. Run it from
 * the controller directory after {@code mvn -o -pl controller -am test-compile}:
 *
 * <pre>
 * mvn -q -o dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.capstan.controller.ArtifactBench [MiB]
 * </pre>
 */
final class ArtifactBench {
    private static final Duration WAIT = Duration.ofSeconds(120);

    private ArtifactBench() {}

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        Path dir = Files.createTempDirectory("capstan-artifact-bench");
        System.out.printf(
                Locale.ROOT,
                "cores %d, load average %.2f%n",
                Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage());
        transfers(dir.resolve("transfers"), mib);
        registrations(dir.resolve("registrations"));
        System.exit(0);
    }

    private static void transfers(Path dir, int mib) throws Exception {
        Files.createDirectories(dir);
        byte[] data = ArtifactClusterTest.bytes(mib << 20, 7);
        String digest = ArtifactClusterTest.digestOf(data);
        // No reconciling during the run: member 2 gets the bytes only when asked for them.
        try (DaemonCluster cluster =
                DaemonCluster.start(dir, 3, "web", "capstan.artifacts.reconcile-interval = 1h")) {
            cluster.awaitLeader(cluster.members(), WAIT);
            long started = System.nanoTime();
            TusClient.upload(cluster.member(0), data, 16 << 20, "");
            report("tus upload to one member (16 MiB PATCHes)", data.length, started);

            started = System.nanoTime();
            HttpResponse<byte[]> local = ArtifactClusterTest.download(cluster.member(0), digest);
            report("download from the member that holds it", local.body().length, started);

            started = System.nanoTime();
            HttpResponse<byte[]> remote = ArtifactClusterTest.download(cluster.member(1), digest);
            report(
                    "download from a member that first fetches it from another",
                    remote.body().length,
                    started);
            if (!Arrays.equals(data, remote.body()) || !Arrays.equals(data, local.body())) {
                System.out.println("BYTES DIFFER");
            }
        }
    }

    private static void registrations(Path dir) throws Exception {
        Files.createDirectories(dir);
        byte[] data = ArtifactClusterTest.bytes(4 << 20, 8);
        String digest = ArtifactClusterTest.digestOf(data);
        try (TestSource source = new TestSource();
                DaemonCluster cluster =
                        DaemonCluster.start(
                                dir, 3, "web", "capstan.artifacts.reconcile-interval = 100ms")) {
            source.serve("/module", data);
            cluster.awaitLeader(cluster.members(), WAIT);
            ExecutorService clients = Executors.newFixedThreadPool(50);
            List<CompletableFuture<AdminHttp.Reply>> replies = new ArrayList<>();
            long started = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                Daemon member = cluster.member(i % 3);
                String body =
                        "{\"url\":\""
                                + source.url("/module")
                                + "\",\"digest\":\""
                                + digest
                                + "\",\"references\":[\"component-"
                                + i
                                + "\"]}";
                replies.add(
                        CompletableFuture.supplyAsync(
                                () -> {
                                    try {
                                        return AdminHttp.post(member, "/v1/artifacts", body);
                                    } catch (Exception e) {
                                        throw new java.util.concurrent.CompletionException(e);
                                    }
                                },
                                clients));
            }
            int errors = 0;
            for (CompletableFuture<AdminHttp.Reply> reply : replies) {
                int status = reply.get(60, TimeUnit.SECONDS).status();
                errors += status == 200 || status == 202 ? 0 : 1;
            }
            long answered = System.nanoTime() - started;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!ArtifactClusterTest.heldEverywhere(cluster.members(), digest)
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            long held = System.nanoTime() - started;
            clients.shutdownNow();
            System.out.printf(
                    Locale.ROOT,
                    "50 concurrent registrations of one 4 MiB artifact (3 members): all answered"
                            + " in %.0f ms (%d errors), held by every member after %.0f ms, %d source request(s)%n",
                    answered / 1e6,
                    errors,
                    held / 1e6,
                    source.requests("/module"));
        }
    }

    private static void report(String what, long bytes, long startedNanos) {
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        System.out.printf(
                Locale.ROOT,
                "%-60s %6.1f MB/s (%d MiB in %.2f s)%n",
                what,
                bytes / 1e6 / seconds,
                bytes >> 20,
                seconds);
    }
}
