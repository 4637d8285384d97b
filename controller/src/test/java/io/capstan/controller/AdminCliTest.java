package io.capstan.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.controller.config.SettingsLoader;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.SnapshotExport;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capstan cluster|snapshot|health}, run in-process through picocli against a real 3-member
 * cluster that requires an admin token: text and JSON output, endpoint failover, exit codes, a
 * fourth member added as a learner, started, promoted and removed, a leadership transfer, and a
 * verified backup. The tests share the cluster and run in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AdminCliTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String TOKEN = "Y2xpLXRlc3QtYWRtaW4tdG9rZW4tMDEyMzQ1Njc4OQ==";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path dir;
    private Path token;
    private DaemonCluster cluster;

    /** One CLI run: its exit code and what it printed. */
    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- out:\n" + out + "--- err:\n" + err;
        }

        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    @BeforeAll
    void start(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        token = Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
        cluster =
                DaemonCluster.start(dir, 3, "web", "capstan.admin.token-file = \"" + token + "\"");
        cluster.awaitLeader(cluster.members(), WAIT);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Runs {@code capstan args...} as {@link Main#run} does, capturing its output. */
    static Run capstan(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit =
                Main.commandLine()
                        .setOut(new PrintWriter(out, true))
                        .setErr(new PrintWriter(err, true))
                        .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code args} with the endpoints of {@code members} and the token file. */
    private String[] admin(List<Daemon> members, String... args) {
        String endpoints = members.stream().map(AdminCliTest::url).collect(Collectors.joining(","));
        return Stream.concat(
                        Arrays.stream(args),
                        Stream.of("--endpoints", endpoints, "--token-file", token.toString()))
                .toArray(String[]::new);
    }

    private static String url(Daemon daemon) {
        return "http://127.0.0.1:" + daemon.webAddress().getPort();
    }

    private Daemon leader() throws InterruptedException {
        return cluster.awaitLeader(cluster.members(), WAIT);
    }

    private List<Daemon> followers() throws InterruptedException {
        Daemon leader = leader();
        return cluster.members().stream().filter(d -> d != leader).toList();
    }

    private static String deadEndpoint() throws Exception {
        return "http://127.0.0.1:" + DaemonProcess.freePort();
    }

    @Test
    @Order(1)
    void statusPrintsATableAndTheApisJson() throws Exception {
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            Run table = capstan(admin(cluster.members(), "cluster", "status"));
                            assertEquals(ExitCodes.OK, table.exit(), table.toString());
                            List<String> lines = table.out().lines().toList();
                            Daemon leader = leader();
                            String leaderId = Long.toHexString(leader.raft().memberId());
                            assertTrue(lines.get(0).startsWith("cluster "), table.toString());
                            assertTrue(
                                    lines.get(0)
                                            .contains(
                                                    "leader "
                                                            + leader.raft().nodeId()
                                                            + " ("
                                                            + leaderId
                                                            + ")"),
                                    table.toString());
                            assertTrue(
                                    lines.get(1)
                                            .matches(
                                                    "ID\\s+NAME\\s+ROLE\\s+LEADER\\s+RAFT\\s+TERM\\s+COMMIT\\s+APPLIED\\s+"
                                                            + "LAST CONTACT\\s+PEER URL\\s+API URL"),
                                    lines.get(1));
                            assertEquals(5, lines.size(), table.toString());
                            for (Daemon member : cluster.members()) {
                                String row =
                                        lines.stream()
                                                .filter(
                                                        l ->
                                                                l.startsWith(
                                                                        Long.toHexString(
                                                                                member.raft()
                                                                                        .memberId())))
                                                .findFirst()
                                                .orElseThrow(
                                                        () -> new AssertionError(table.toString()));
                                String role = member == leader ? "leader" : "follower";
                                assertTrue(
                                        row.matches(
                                                "[0-9a-f]+\\s+"
                                                        + member.raft().nodeId()
                                                        + "\\s+voter\\s+"
                                                        + (member == leader ? "\\*\\s+" : "")
                                                        + role
                                                        + "\\s+\\d+\\s+\\d+\\s+\\d+\\s+0ms\\s+"
                                                        + url(member)
                                                        + "\\s+http://127\\.0\\.0\\.1:\\d+"),
                                        row);
                            }
                        });

        Run json = capstan(admin(cluster.members(), "cluster", "status", "--json"));
        assertEquals(ExitCodes.OK, json.exit(), json.toString());
        JsonNode body = json.json();
        assertEquals(3, body.path("members").size(), json.out());
        assertEquals(Long.toHexString(leader().raft().memberId()), body.path("leader_id").asText());
        body.path("members")
                .forEach(member -> assertTrue(member.path("raft").path("reachable").asBoolean()));
    }

    @Test
    @Order(2)
    void aRefusedConnectionMovesOnToTheNextEndpoint() throws Exception {
        Run failover =
                capstan(
                        "cluster",
                        "status",
                        "--json",
                        "--token-file",
                        token.toString(),
                        "--endpoints",
                        deadEndpoint() + "," + url(cluster.member(1)));
        assertEquals(ExitCodes.OK, failover.exit(), failover.toString());
        assertEquals(
                Long.toHexString(cluster.member(1).raft().memberId()),
                failover.json().path("member_id").asText());

        String first = deadEndpoint();
        Run nobody =
                capstan(
                        "cluster",
                        "status",
                        "--token-file",
                        token.toString(),
                        "--endpoints",
                        first + "," + deadEndpoint());
        assertEquals(ExitCodes.FAILED, nobody.exit(), nobody.toString());
        assertTrue(
                nobody.err()
                        .startsWith(
                                "capstan: no endpoint took the request: "
                                        + first
                                        + ": connection refused"),
                nobody.toString());
        assertEquals("", nobody.out());
    }

    @Test
    @Order(3)
    void aMissingOrWrongTokenFailsWithTheServersReason() throws Exception {
        Run missing = capstan("cluster", "status", "--endpoints", url(cluster.member(0)));
        assertEquals(ExitCodes.FAILED, missing.exit(), missing.toString());
        assertTrue(
                missing.err()
                        .contains("(unauthorized, HTTP 401 from " + url(cluster.member(0)) + ")"),
                missing.toString());

        Path wrong =
                Files.writeString(
                        dir.resolve("wrong.token"), "d3JvbmctdG9rZW4tZm9yLXRoaXMtY2x1c3Rlcg==\n");
        Run forbidden =
                capstan(
                        "cluster",
                        "status",
                        "--json",
                        "--token-file",
                        wrong.toString(),
                        "--endpoints",
                        url(cluster.member(0)));
        assertEquals(ExitCodes.FAILED, forbidden.exit(), forbidden.toString());
        assertTrue(forbidden.err().contains("(forbidden, HTTP 403"), forbidden.toString());
        assertEquals(
                "forbidden",
                forbidden.json().path("error").path("code").asText(),
                "--json prints the error's JSON for scripts");
    }

    @Test
    @Order(4)
    void badUsageExitsWithTwo() throws Exception {
        Path directory = Files.createDirectories(dir.resolve("a-directory"));
        List<String[]> usages =
                List.of(
                        new String[] {"cluster"},
                        new String[] {"cluster", "frobnicate"},
                        admin(cluster.members(), "cluster", "remove", "not-hex"),
                        admin(cluster.members(), "cluster", "promote", "12345678901234567"),
                        admin(cluster.members(), "cluster", "add"),
                        admin(cluster.members(), "cluster", "transfer"),
                        new String[] {"cluster", "status", "--endpoints", "ftp://127.0.0.1:7480"},
                        new String[] {
                            "cluster", "status", "--endpoints", "http://127.0.0.1:7480/v1"
                        },
                        new String[] {
                            "cluster",
                            "status",
                            "--token-file",
                            dir.resolve("no-such.token").toString()
                        },
                        new String[] {"cluster", "status", "--cacert", token.toString()},
                        new String[] {"health", "--token-file", directory.toString()},
                        admin(cluster.members(), "snapshot", "save", directory.toString()),
                        new String[] {"snapshot"});
        for (String[] usage : usages) {
            Run run = capstan(usage);
            assertEquals(ExitCodes.USAGE, run.exit(), String.join(" ", usage) + "\n" + run);
            assertFalse(run.err().isBlank(), run.toString());
        }
    }

    @Test
    @Order(5)
    void aLearnerIsAddedStartedPromotedAndRemoved() throws Exception {
        int port = DaemonProcess.freePort();
        Run added =
                capstan(
                        admin(
                                followers(),
                                "cluster",
                                "add",
                                "--peer-url",
                                "http://127.0.0.1:" + port,
                                "--learner",
                                "--json"));
        assertEquals(ExitCodes.OK, added.exit(), added.toString());
        String id = added.json().path("member").path("id").asText();
        assertEquals("learner", added.json().path("member").path("role").asText());

        Daemon joining =
                Daemon.create(SettingsLoader.load(Optional.of(joiningConfig(port)), Map.of()));
        try {
            joining.start().get(60, TimeUnit.SECONDS);
            await().atMost(WAIT)
                    .untilAsserted(
                            () -> {
                                Run status =
                                        capstan(
                                                admin(
                                                        cluster.members(),
                                                        "cluster",
                                                        "status",
                                                        "--json"));
                                JsonNode n4 = member(status.json(), id);
                                assertEquals("n4", n4.path("name").asText(), status.out());
                                assertEquals("learner", n4.path("role").asText());
                                assertEquals(
                                        "learner",
                                        n4.path("raft").path("role").asText(),
                                        status.out());
                            });
            // It may still be catching up: promote refuses until it has, and succeeds once it has.
            await().atMost(WAIT)
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(
                            () -> {
                                Run promoted =
                                        capstan(admin(cluster.members(), "cluster", "promote", id));
                                assertEquals(ExitCodes.OK, promoted.exit(), promoted.toString());
                                assertEquals(
                                        "promoted member " + id + " (n4) to voter\n",
                                        promoted.out());
                            });
            Run status = capstan(admin(List.of(joining), "cluster", "status", "--json"));
            assertEquals("voter", member(status.json(), id).path("role").asText(), status.out());
            assertEquals(4, status.json().path("members").size());

            Run removed = capstan(admin(cluster.members(), "cluster", "remove", id));
            assertEquals(ExitCodes.OK, removed.exit(), removed.toString());
            assertEquals("removed member " + id + "; 3 members left\n", removed.out());
        } finally {
            joining.stop().get(60, TimeUnit.SECONDS);
        }
        Run again = capstan(admin(cluster.members(), "cluster", "remove", id));
        assertEquals(ExitCodes.FAILED, again.exit(), again.toString());
        assertTrue(again.err().contains("(member_not_found, HTTP 404"), again.toString());
    }

    private Path joiningConfig(int webPort) throws Exception {
        String peers =
                Stream.concat(
                                cluster.members().stream()
                                        .map(
                                                d ->
                                                        "\""
                                                                + d.raft().nodeId()
                                                                + "=127.0.0.1:"
                                                                + d.webAddress().getPort()
                                                                + "\""),
                                Stream.of("\"n4=127.0.0.1:" + webPort + "\""))
                        .collect(Collectors.joining(", "));
        return Files.writeString(
                dir.resolve("n4.conf"),
                String.join(
                        "\n",
                        "capstan.node { id = \"n4\", data-dir = \"" + dir.resolve("n4") + "\" }",
                        "capstan.web.port = " + webPort,
                        "capstan.api.port = " + DaemonProcess.freePort(),
                        "capstan.admin.token-file = \"" + token + "\"",
                        "capstan.raft {",
                        "  peers = [" + peers + "]",
                        "  initial-cluster-state = existing",
                        "  secret-file = \"" + dir.resolve("cluster.secret") + "\"",
                        "  election-timeout-min = 300ms",
                        "  election-timeout-max = 600ms",
                        "}"));
    }

    private static JsonNode member(JsonNode cluster, String id) {
        for (JsonNode member : cluster.path("members")) {
            if (member.path("id").asText().equals(id)) {
                return member;
            }
        }
        throw new AssertionError(id + " is not in " + cluster);
    }

    @Test
    @Order(6)
    void leadershipMovesToANamedFollowerWhicheverMemberIsAsked() throws Exception {
        List<Daemon> followers = followers();
        Daemon target = followers.get(0);
        // Asked first: the other follower, which points the CLI at the leader.
        Run moved =
                capstan(
                        admin(
                                List.of(followers.get(1), target),
                                "cluster",
                                "transfer",
                                target.raft().nodeId()));

        assertEquals(ExitCodes.OK, moved.exit(), moved.toString());
        assertEquals(
                "member "
                        + Long.toHexString(target.raft().memberId())
                        + " ("
                        + target.raft().nodeId()
                        + ") leads\n",
                moved.out());
        assertEquals(NodeStatus.Role.LEADER, target.raft().status().role());
        assertEquals(target, leader());

        Run unknown = capstan(admin(cluster.members(), "cluster", "transfer", "n9"));
        assertEquals(ExitCodes.FAILED, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("(member_not_found, HTTP 404"), unknown.toString());
    }

    @Test
    @Order(7)
    void snapshotSaveWritesAVerifiedBackupOfTheMembersState() throws Exception {
        Daemon member = followers().get(0);
        Path file = dir.resolve("backups").resolve("cluster.snap");
        Files.createDirectories(file.getParent());

        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            Run saved =
                                    capstan(
                                            admin(
                                                    List.of(member),
                                                    "snapshot",
                                                    "save",
                                                    file.toString()));
                            assertEquals(ExitCodes.OK, saved.exit(), saved.toString());
                            byte[] bytes = Files.readAllBytes(file);
                            String sha =
                                    HexFormat.of()
                                            .formatHex(
                                                    Arrays.copyOfRange(
                                                            bytes,
                                                            bytes.length - 32,
                                                            bytes.length));
                            assertTrue(
                                    saved.out()
                                            .matches(
                                                    "saved snapshot at revision \\d+ \\(log index \\d+, "
                                                            + bytes.length
                                                            + " bytes, sha256 "
                                                            + sha
                                                            + "\\) to "
                                                            + file
                                                            + "\n"),
                                    saved.toString());
                            byte[] export = Arrays.copyOf(bytes, bytes.length - 32);
                            assertArrayEquals(
                                    MessageDigest.getInstance("SHA-256").digest(export),
                                    Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length));
                            assertEquals(
                                    member.raft().stateDigest(),
                                    SnapshotExport.digestOf(new ByteArrayInputStream(export)),
                                    "the file holds the member's state");
                        });
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }

        Path refused = file.resolveSibling("refused.snap");
        Run noToken = capstan("snapshot", "save", refused.toString(), "--endpoints", url(member));
        assertEquals(ExitCodes.FAILED, noToken.exit(), noToken.toString());
        assertTrue(Files.notExists(refused), "a refused backup writes nothing");
    }

    @Test
    @Order(8)
    void healthChecksEveryEndpoint() throws Exception {
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            Run healthy = capstan(admin(cluster.members(), "health"));
                            assertEquals(ExitCodes.OK, healthy.exit(), healthy.toString());
                            List<String> lines = healthy.out().lines().toList();
                            assertEquals(3, lines.size(), healthy.toString());
                            for (int i = 0; i < 3; i++) {
                                assertTrue(
                                        lines.get(i)
                                                .startsWith(
                                                        url(cluster.member(i))
                                                                + ": ready, n"
                                                                + (i + 1)
                                                                + " "),
                                        healthy.toString());
                            }
                        });

        String dead = deadEndpoint();
        Run partly =
                capstan(
                        "health",
                        "--check",
                        "leader",
                        "--json",
                        "--endpoints",
                        url(cluster.member(0)) + "," + dead);
        assertEquals(ExitCodes.FAILED, partly.exit(), partly.toString());
        JsonNode results = partly.json();
        assertTrue(results.get(0).path("ready").asBoolean(), partly.out());
        assertEquals(
                "pass",
                results.get(0).path("health").path("checks").path("leader").asText(),
                partly.out());
        assertEquals(dead, results.get(1).path("endpoint").asText());
        assertFalse(results.get(1).path("ready").asBoolean());
        assertEquals("connection refused", results.get(1).path("error").asText());
    }
}
