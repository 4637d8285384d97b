package io.capstan.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.controller.ExitCodes;
import io.capstan.controller.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BenchCommandTest {
    private static final Pattern ROW =
            Pattern.compile(
                    "(?m)^(web|grpc)\\s+(\\d+)\\s+(\\d+\\.\\d)\\s+(\\d+\\.\\d\\d)\\s+(\\d+\\.\\d\\d)\\s+(\\d+)$");

    /** A row of an API workload: transport, auth, clients, per second, p50, p99, errors. */
    private static final Pattern API_ROW =
            Pattern.compile(
                    "(?m)^(web|grpc)\\s+(off|on)\\s+(\\d+)\\s+(\\d+\\.\\d)\\s+(\\d+\\.\\d\\d)\\s+(\\d+\\.\\d\\d)\\s+(\\d+)$");

    @TempDir Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** Runs {@code capstan args...} as {@code Main.run} does, capturing its output. */
    private int capstan(String... args) {
        return Main.commandLine()
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
    }

    @Test
    void measuresEveryTransportAndWriterCountAndLeavesNoData() throws Exception {
        int exit =
                capstan(
                        "bench",
                        "--transports",
                        "web,grpc",
                        "--writers",
                        "1,4",
                        "--seconds",
                        "1",
                        "--warmup-seconds",
                        "0",
                        "--value-bytes",
                        "64",
                        "--dir",
                        dir.toString());

        assertEquals(ExitCodes.OK, exit, out + "\n" + err);
        String table = out.toString();
        assertTrue(table.contains("64-byte puts, 3-member clusters"), table);
        assertTrue(
                table.contains("machine: " + Runtime.getRuntime().availableProcessors() + " cores"),
                table);
        Matcher row = ROW.matcher(table);
        List<String> runs = new java.util.ArrayList<>();
        while (row.find()) {
            runs.add(row.group(1) + "/" + row.group(2));
            assertTrue(Double.parseDouble(row.group(3)) > 0, "writes/s of " + row.group());
            assertTrue(Double.parseDouble(row.group(4)) > 0, "p50 of " + row.group());
            assertTrue(
                    Double.parseDouble(row.group(5)) >= Double.parseDouble(row.group(4)),
                    "p99 >= p50: " + row.group());
            assertEquals("0", row.group(6), "errors of " + row.group());
        }
        assertEquals(List.of("web/1", "web/4", "grpc/1", "grpc/4"), runs, table);
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "each cluster's data is deleted after its runs");
        }
    }

    @Test
    void lockCyclesAndApiPutsWithAuthOffAndOnAreMeasuredThroughTheEtcdApi() throws Exception {
        int lock =
                capstan(
                        "bench",
                        "--workload",
                        "lock",
                        "--transports",
                        "grpc",
                        "--clients",
                        "1,4",
                        "--seconds",
                        "1",
                        "--warmup-seconds",
                        "0",
                        "--dir",
                        dir.toString());

        assertEquals(ExitCodes.OK, lock, out + "\n" + err);
        String lockTable = out.toString();
        assertTrue(lockTable.contains("lock cycles through the etcd API"), lockTable);
        assertTrue(lockTable.contains("cycles/s"), lockTable);
        assertEquals(List.of("grpc/off/1", "grpc/off/4"), apiRuns(lockTable), lockTable);

        out.getBuffer().setLength(0);
        // With auth on, every put carries a token of a user allowed only under bench/.
        int put =
                capstan(
                        "bench",
                        "--workload",
                        "put-api",
                        "--auth",
                        "off,on",
                        "--transports",
                        "web",
                        "--clients",
                        "4",
                        "--seconds",
                        "1",
                        // The first authenticated puts wait for the token (a bcrypt check): out of
                        // the measured second, so a busy machine still measures some.
                        "--warmup-seconds",
                        "1",
                        "--value-bytes",
                        "64",
                        "--dir",
                        dir.toString());

        assertEquals(ExitCodes.OK, put, out + "\n" + err);
        String putTable = out.toString();
        assertTrue(putTable.contains("64-byte puts through the etcd API"), putTable);
        assertTrue(putTable.contains("writes/s"), putTable);
        assertEquals(List.of("web/off/4", "web/on/4"), apiRuns(putTable), putTable);
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "each cluster's data is deleted after its runs");
        }
    }

    /**
     * The runs of an API workload's table as transport/auth/clients, checking each row's figures.
     */
    private static List<String> apiRuns(String table) {
        Matcher row = API_ROW.matcher(table);
        List<String> runs = new java.util.ArrayList<>();
        while (row.find()) {
            runs.add(row.group(1) + "/" + row.group(2) + "/" + row.group(3));
            assertTrue(Double.parseDouble(row.group(4)) > 0, "per second of " + row.group());
            assertTrue(Double.parseDouble(row.group(5)) > 0, "p50 of " + row.group());
            assertTrue(
                    Double.parseDouble(row.group(6)) >= Double.parseDouble(row.group(5)),
                    "p99 >= p50: " + row.group());
            assertEquals("0", row.group(7), "errors of " + row.group());
        }
        return runs;
    }

    @Test
    void aClusterThatCannotFormEndsWithExitCodeOneAfterTryingEveryTransport() {
        // A directory nothing can be created in, even by root.
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc.resolve("self")), "needs Linux /proc");

        int exit = capstan("bench", "--transports", "grpc,web", "--dir", proc.toString());

        assertEquals(ExitCodes.FAILED, exit, out + "\n" + err);
        assertTrue(
                out.toString().contains("FAILED: cannot create a data directory under /proc"),
                out.toString());
        assertEquals(
                2,
                out.toString().lines().filter(l -> l.startsWith("FAILED: ")).count(),
                out.toString());
        assertTrue(!ROW.matcher(out.toString()).find(), "no run without a cluster: " + out);
    }

    @Test
    void badOptionsExitWithTwoAndNameTheProblem() {
        assertUsage("--clients: 0 is out of range; each count must be 1..1024", "--clients", "0");
        assertUsage(
                "--clients: 1025 is out of range; each count must be 1..1024", "--writers", "1025");
        assertUsage("--clients: [1, 16, 1] lists a count twice", "--clients", "1,16,1");
        assertUsage(
                "--workload: unknown workload 'queue'; allowed: propose, put-api, lock",
                "--workload",
                "queue");
        assertUsage(
                "--auth: unknown setting 'maybe'; allowed: off, on",
                "--workload",
                "put-api",
                "--auth",
                "on,maybe");
        assertUsage(
                "--auth: [off, off] lists a setting twice",
                "--workload",
                "lock",
                "--auth",
                "off,off");
        assertUsage(
                "--auth: on needs --workload put-api or lock; propose bypasses the etcd API",
                "--auth",
                "off,on");
        assertUsage(
                "--transports: unknown transport 'tcp'; allowed: web, grpc",
                "--transports",
                "web,tcp");
        assertUsage("--seconds: 0 is out of range; must be 1..3600", "--seconds", "0");
        assertUsage(
                "--warmup-seconds: -1 is out of range; must be 0..600", "--warmup-seconds", "-1");
        assertUsage(
                "--value-bytes: 2000000 is out of range; must be 1..1048576",
                "--value-bytes",
                "2000000");
        assertUsage("is not an existing directory", "--dir", dir.resolve("missing").toString());
        assertUsage("'--clients'", "--clients", "many");
    }

    @Test
    void everyEndpointWorkloadRunsAgainstARealClusterThroughTheEtcdApi() throws Exception {
        try (BenchCluster cluster =
                BenchCluster.start(dir, "web", Duration.ofSeconds(60), new SecureRandom())) {
            InetSocketAddress api = cluster.leaderApi();
            String endpoint = api.getHostString() + ":" + api.getPort();
            // The members run in this JVM, so sampling this process samples them.
            String self = Long.toString(ProcessHandle.current().pid());
            for (List<String> workload :
                    List.of(
                            List.of("put"),
                            List.of("range-linearizable", "--keys", "20"),
                            List.of("range-serializable", "--keys", "20"),
                            List.of("txn-cas"),
                            List.of("watch", "--watchers", "3"))) {
                out.getBuffer().setLength(0);
                List<String> args =
                        new java.util.ArrayList<>(
                                List.of(
                                        "bench",
                                        "--endpoints",
                                        endpoint,
                                        "--label",
                                        "capstan",
                                        "--clients",
                                        "2",
                                        "--seconds",
                                        "1",
                                        "--warmup-seconds",
                                        "0",
                                        "--sample-pids",
                                        self,
                                        "--json",
                                        "--workload"));
                args.addAll(workload);

                int exit = capstan(args.toArray(String[]::new));

                assertEquals(ExitCodes.OK, exit, workload + ": " + out + "\n" + err);
                JsonNode results = new ObjectMapper().readTree(out.toString());
                assertEquals("capstan", results.get("label").asText());
                assertEquals(workload.get(0), results.get("workload").asText());
                JsonNode point = results.get("points").get(0);
                assertEquals(2, point.get("clients").asInt(), point.toString());
                assertTrue(point.get("operations").asLong() > 0, point.toString());
                assertTrue(point.get("latency").get("p50").asDouble() > 0, point.toString());
                assertTrue(
                        point.get("latency").get("max").asDouble()
                                >= point.get("latency").get("p99").asDouble(),
                        point.toString());
                assertEquals(
                        0,
                        point.get("errors").size(),
                        "no errors (compare failures included): " + point);
                assertTrue(point.get("cpuMicros").asLong() > 0, point.toString());
                if (workload.get(0).equals("watch")) {
                    assertEquals(3, point.get("watchers").asInt());
                    assertTrue(point.get("events").asLong() > 0, point.toString());
                    assertTrue(point.get("delivery").get("p50").asDouble() > 0, point.toString());
                }
            }
        }
    }

    @Test
    void endpointsThatDoNotAnswerEndWithExitCodeOne() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }

        int exit =
                capstan(
                        "bench",
                        "--endpoints",
                        "127.0.0.1:" + port,
                        "--clients",
                        "1",
                        "--seconds",
                        "1");

        assertEquals(ExitCodes.FAILED, exit, out + "\n" + err);
        assertTrue(
                out.toString()
                        .contains(
                                "FAILED: endpoint 127.0.0.1:"
                                        + port
                                        + " did not answer Maintenance.Status"),
                out.toString());
    }

    @Test
    void endpointOptionsAreCheckedAndApplyOnlyWithEndpoints() {
        assertUsage("--endpoints: '127.0.0.1' is not host:port", "--endpoints", "127.0.0.1");
        assertUsage(
                "--workload: unknown workload 'propose' with --endpoints; allowed: put, range-linearizable,"
                        + " range-serializable, txn-cas, watch",
                "--endpoints",
                "127.0.0.1:1",
                "--workload",
                "propose");
        assertUsage(
                "--connections: 0 is out of range; must be 1..1024",
                "--endpoints",
                "127.0.0.1:1",
                "--connections",
                "0");
        assertUsage(
                "--target: unknown target 'any'; allowed: leader, all",
                "--endpoints",
                "127.0.0.1:1",
                "--target",
                "any");
        assertUsage(
                "--watchers needs --workload watch",
                "--endpoints",
                "127.0.0.1:1",
                "--watchers",
                "4");
        assertUsage(
                "--keys needs --workload range-linearizable or range-serializable",
                "--endpoints",
                "127.0.0.1:1",
                "--workload",
                "txn-cas",
                "--keys",
                "5");
        assertUsage(
                "--value-bytes: 4 is too small for --workload watch",
                "--endpoints",
                "127.0.0.1:1",
                "--workload",
                "watch",
                "--value-bytes",
                "4");
        assertUsage(
                "--sample-pids: no process 2147483647 to read in /proc",
                "--endpoints",
                "127.0.0.1:1",
                "--sample-pids",
                "2147483647");
        assertUsage(
                "--transports applies to clusters in this JVM, not to --endpoints",
                "--endpoints",
                "127.0.0.1:1",
                "--transports",
                "web");
        assertUsage("--json needs --endpoints", "--json");
        assertUsage("--target needs --endpoints", "--workload", "lock", "--target", "all");
    }

    private void assertUsage(String message, String... options) {
        err.getBuffer().setLength(0);
        String[] args =
                Stream.concat(Stream.of("bench"), Stream.of(options)).toArray(String[]::new);
        assertEquals(ExitCodes.USAGE, capstan(args), String.join(" ", args));
        assertTrue(err.toString().contains(message), "for " + String.join(" ", args) + ": " + err);
    }
}
