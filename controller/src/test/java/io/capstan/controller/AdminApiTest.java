package io.capstan.controller;

import static io.capstan.controller.AdminHttp.delete;
import static io.capstan.controller.AdminHttp.get;
import static io.capstan.controller.AdminHttp.post;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.capstan.raft.Member;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.SnapshotExport;
import io.capstan.raft.StateDigest;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.PutRequest;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
 * The admin HTTP API of a real 3-member cluster in this JVM (real ports, real Ratis over the web
 * transport): every endpoint's answer and its errors, and readiness. The tests share the cluster
 * and run in order; the last one stops two members.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class AdminApiTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration MAX_LEADERLESS = Duration.ofMillis(1500);

    /** The reference group id, which DaemonCluster's members keep. */
    private static final UUID GROUP = UUID.fromString("58158864-8ad7-4ab9-8926-1570374bf016");

    private DaemonCluster cluster;

    @BeforeAll
    void startCluster(@TempDir Path dir) throws Exception {
        cluster =
                DaemonCluster.start(
                        dir,
                        3,
                        "web",
                        "capstan.raft.max-leaderless = " + MAX_LEADERLESS.toMillis() + "ms");
        cluster.awaitLeader(cluster.members(), WAIT);
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Daemon leader() throws InterruptedException {
        return cluster.awaitLeader(cluster.members(), WAIT);
    }

    private Daemon follower() throws InterruptedException {
        Daemon leader = leader();
        return cluster.members().stream().filter(d -> d != leader).findFirst().orElseThrow();
    }

    private static String name(Daemon daemon) {
        return daemon.raft().nodeId();
    }

    private static String webUrl(Daemon daemon) {
        return "http://127.0.0.1:" + daemon.webAddress().getPort();
    }

    private static JsonNode byName(JsonNode members, String name) {
        for (JsonNode member : members) {
            if (member.path("name").asText().equals(name)) {
                return member;
            }
        }
        throw new AssertionError(name + " is not in " + members);
    }

    private static Command put(String key, String value) {
        return Command.newBuilder()
                .setPut(
                        PutRequest.newBuilder()
                                .setKey(ByteString.copyFromUtf8(key))
                                .setValue(ByteString.copyFromUtf8(value)))
                .build();
    }

    @Test
    @Order(1)
    void clusterStatusShowsEveryMemberWithItsOwnRaftNumbers() throws Exception {
        Daemon asked = follower();
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            AdminHttp.Reply reply = get(asked, "/v1/cluster");
                            assertEquals(200, reply.status(), reply.text());
                            JsonNode body = reply.json();
                            assertEquals(
                                    Long.toHexString(Member.clusterId(GROUP)),
                                    body.path("cluster_id").asText());
                            assertEquals(
                                    Long.toHexString(asked.raft().memberId()),
                                    body.path("member_id").asText());
                            Daemon leader = leader();
                            assertEquals(
                                    Long.toHexString(leader.raft().memberId()),
                                    body.path("leader_id").asText());
                            assertEquals(3, body.path("members").size(), reply.text());
                            for (Daemon member : cluster.members()) {
                                JsonNode entry = byName(body.path("members"), name(member));
                                assertEquals(
                                        Long.toHexString(member.raft().memberId()),
                                        entry.path("id").asText());
                                assertEquals(
                                        webUrl(member),
                                        entry.path("peer_url").asText(),
                                        "the peer URL is the web address");
                                assertTrue(
                                        entry.path("api_url")
                                                .asText()
                                                .startsWith("http://127.0.0.1:"),
                                        entry.toString());
                                assertEquals("voter", entry.path("role").asText());
                                assertTrue(entry.path("started").asBoolean());
                                assertEquals(
                                        member == leader,
                                        entry.path("leader").asBoolean(),
                                        entry.toString());
                                // Each member's numbers are its own, read from it (the answering
                                // one's directly).
                                JsonNode raft = entry.path("raft");
                                NodeStatus status = member.raft().status();
                                assertTrue(raft.path("reachable").asBoolean(), entry.toString());
                                assertEquals(
                                        member == leader ? "leader" : "follower",
                                        raft.path("role").asText());
                                assertEquals(status.term(), raft.path("term").asLong());
                                assertTrue(
                                        raft.path("commit_index").asLong() > 0, entry.toString());
                                assertTrue(
                                        raft.path("applied_index").asLong()
                                                <= status.appliedIndex(),
                                        entry.toString());
                                assertEquals(
                                        0,
                                        raft.path("last_contact_ms").asLong(),
                                        "0 while it knows its leader: " + entry);
                            }
                        });
    }

    @Test
    @Order(2)
    void addedMemberIsListedUnstartedAndRemovedAgain() throws Exception {
        Daemon asked = follower();
        String peerUrl = "http://127.0.0.1:" + DaemonProcess.freePort();

        AdminHttp.Reply added =
                post(
                        asked,
                        "/v1/cluster/members",
                        "{\"peer_url\":\"" + peerUrl + "\",\"learner\":true}");

        assertEquals(201, added.status(), added.text());
        JsonNode member = added.json().path("member");
        String id = member.path("id").asText();
        assertTrue(id.matches("[0-9a-f]{1,16}"), id);
        assertEquals("", member.path("name").asText(), "not started, so no name yet, as in etcd");
        assertEquals(peerUrl, member.path("peer_url").asText());
        assertTrue(member.path("api_url").isNull());
        assertEquals("learner", member.path("role").asText());
        assertFalse(member.path("started").asBoolean());
        assertEquals(
                "/v1/cluster/members/" + id, added.headers().firstValue("Location").orElseThrow());

        JsonNode listed = memberById(get(leader(), "/v1/cluster").json(), id);
        assertFalse(listed.path("started").asBoolean());
        assertTrue(
                listed.path("raft").isMissingNode(),
                "a member not started has no Raft state: " + listed);

        AdminHttp.Reply notReady = post(asked, "/v1/cluster/members/" + id + "/promote", "");
        assertEquals(409, notReady.status(), notReady.text());
        assertEquals("learner_not_ready", notReady.errorCode());

        AdminHttp.Reply cannotLead =
                post(asked, "/v1/cluster/leader", "{\"member\":\"" + id + "\"}");
        assertEquals(409, cannotLead.status(), cannotLead.text());
        assertEquals("member_not_started", cannotLead.errorCode());

        AdminHttp.Reply taken =
                post(asked, "/v1/cluster/members", "{\"peer_url\":\"" + peerUrl + "\"}");
        assertEquals(409, taken.status(), taken.text());
        assertEquals("peer_url_exists", taken.errorCode());

        AdminHttp.Reply removed = delete(asked, "/v1/cluster/members/" + id.toUpperCase());
        assertEquals(200, removed.status(), removed.text());
        assertEquals(id, removed.json().path("removed").asText());
        assertEquals(3, removed.json().path("members").size());
        assertEquals(3, get(asked, "/v1/cluster").json().path("members").size());
    }

    private static JsonNode memberById(JsonNode cluster, String id) {
        for (JsonNode member : cluster.path("members")) {
            if (member.path("id").asText().equals(id)) {
                return member;
            }
        }
        throw new AssertionError(id + " is not in " + cluster);
    }

    @Test
    @Order(3)
    void membershipRefusalsAreJsonErrorsWithStableCodes() throws Exception {
        Daemon asked = leader();
        String voter = Long.toHexString(follower().raft().memberId());
        record Case(String method, String path, String body, int status, String code) {}
        List<Case> cases =
                List.of(
                        new Case("DELETE", "/v1/cluster/members/not-hex", null, 400, "bad_request"),
                        new Case(
                                "DELETE",
                                "/v1/cluster/members/12345678901234567",
                                null,
                                400,
                                "bad_request"),
                        new Case(
                                "DELETE",
                                "/v1/cluster/members/abc123",
                                null,
                                404,
                                "member_not_found"),
                        new Case(
                                "POST",
                                "/v1/cluster/members/abc123/promote",
                                "",
                                404,
                                "member_not_found"),
                        new Case(
                                "POST",
                                "/v1/cluster/members/" + voter + "/promote",
                                "",
                                409,
                                "member_not_learner"),
                        new Case(
                                "POST",
                                "/v1/cluster/members",
                                "{\"peer_url\":",
                                400,
                                "bad_request"),
                        new Case("POST", "/v1/cluster/members", "", 400, "bad_request"),
                        new Case("POST", "/v1/cluster/members", "[1]", 400, "bad_request"),
                        new Case("POST", "/v1/cluster/members", "{}", 400, "bad_request"),
                        new Case(
                                "POST",
                                "/v1/cluster/members",
                                "{\"peer_url\":7}",
                                400,
                                "bad_request"),
                        new Case(
                                "POST",
                                "/v1/cluster/members",
                                "{\"peer_url\":\"http://127.0.0.1:9\",\"lerner\":true}",
                                400,
                                "bad_request"),
                        new Case(
                                "POST",
                                "/v1/cluster/members",
                                "{\"peer_url\":\"http://127.0.0.1:9\",\"learner\":\"yes\"}",
                                400,
                                "bad_request"),
                        new Case(
                                "POST",
                                "/v1/cluster/members",
                                "{\"peer_url\":\"ftp://127.0.0.1:9\"}",
                                400,
                                "bad_peer_url"),
                        new Case(
                                "POST",
                                "/v1/cluster/members",
                                "{\"peer_url\":\"" + webUrl(asked) + "\"}",
                                409,
                                "peer_url_exists"),
                        new Case("POST", "/v1/cluster/leader", "{}", 400, "bad_request"),
                        new Case(
                                "POST",
                                "/v1/cluster/leader",
                                "{\"member\":\"nobody\"}",
                                404,
                                "member_not_found"),
                        new Case(
                                "POST",
                                "/v1/cluster/leader",
                                "{\"member\":\"ffff\"}",
                                404,
                                "member_not_found"),
                        new Case("PUT", "/v1/cluster", "{}", 405, "method_not_allowed"));
        for (Case c : cases) {
            AdminHttp.Reply reply =
                    AdminHttp.send(
                            asked,
                            c.method(),
                            c.path(),
                            Optional.ofNullable(c.body()),
                            Optional.empty());
            assertEquals(c.status(), reply.status(), c + " -> " + reply.text());
            assertEquals(c.code(), reply.errorCode(), c.toString());
            assertFalse(
                    reply.json().path("error").path("message").asText().isBlank(), reply.text());
            assertEquals(
                    "application/json", reply.headers().firstValue("Content-Type").orElseThrow());
        }
        assertEquals(
                3,
                get(asked, "/v1/cluster").json().path("members").size(),
                "no refusal changed the membership");
    }

    @Test
    @Order(4)
    void leadershipMovesToANamedFollowerOnlyThroughTheLeader() throws Exception {
        Daemon leader = leader();
        Daemon target = follower();
        Daemon other =
                cluster.members().stream()
                        .filter(d -> d != leader && d != target)
                        .findFirst()
                        .orElseThrow();

        AdminHttp.Reply redirected =
                post(other, "/v1/cluster/leader", "{\"member\":\"" + name(target) + "\"}");
        assertEquals(409, redirected.status(), redirected.text());
        assertEquals("not_leader", redirected.errorCode());
        JsonNode error = redirected.json().path("error");
        assertEquals(name(leader), error.path("leader").asText());
        assertEquals(Long.toHexString(leader.raft().memberId()), error.path("leader_id").asText());
        assertEquals(webUrl(leader), error.path("leader_url").asText());

        AdminHttp.Reply moved =
                post(leader, "/v1/cluster/leader", "{\"member\":\"" + name(target) + "\"}");
        assertEquals(200, moved.status(), moved.text());
        assertEquals(name(target), moved.json().path("leader").path("name").asText());
        assertEquals(
                NodeStatus.Role.LEADER,
                target.raft().status().role(),
                "the transfer answers once it leads");

        // By id too, and to the member that already leads: done at once (once the third member
        // has heard of the new leader; until then it answers no_leader).
        DaemonCluster.awaitTrue(
                "n3 hears of the new leader",
                Duration.ofSeconds(30),
                () -> other.raft().status().leaderId().equals(Optional.of(name(target))));
        String targetId = Long.toHexString(target.raft().memberId());
        AdminHttp.Reply already =
                post(other, "/v1/cluster/leader", "{\"member\":\"" + targetId + "\"}");
        assertEquals(200, already.status(), already.text());
        assertEquals(targetId, already.json().path("leader").path("id").asText());
    }

    @Test
    @Order(5)
    void snapshotIsTakenOnDemandAndStreamedWithItsChecksum() throws Exception {
        Daemon leader = leader();
        for (int i = 0; i < 20; i++) {
            leader.raft().propose(put("admin/key-" + i, "value-" + i)).get(30, TimeUnit.SECONDS);
        }
        Daemon asked = follower();

        AdminHttp.Reply taken = post(asked, "/v1/snapshot", "");
        assertEquals(200, taken.status(), taken.text());
        assertEquals(name(asked), taken.json().path("member").asText());
        assertTrue(taken.json().path("log_index").asLong() > 20, taken.text());

        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            AdminHttp.Reply backup = get(asked, "/v1/snapshot");
                            assertEquals(200, backup.status());
                            assertEquals(
                                    "application/octet-stream",
                                    backup.headers().firstValue("Content-Type").orElseThrow());
                            assertEquals(
                                    "sha256-trailing-32-bytes",
                                    backup.headers()
                                            .firstValue("X-Capstan-Snapshot-Checksum")
                                            .orElseThrow());
                            byte[] bytes = backup.body();
                            assertEquals(
                                    bytes.length,
                                    backup.headers()
                                            .firstValueAsLong("Content-Length")
                                            .orElseThrow());
                            byte[] export = Arrays.copyOf(bytes, bytes.length - 32);
                            assertEquals(
                                    0,
                                    export.length % SnapshotExport.BLOCK,
                                    "etcd's clients want whole 512-byte blocks");
                            assertArrayEquals(
                                    MessageDigest.getInstance("SHA-256").digest(export),
                                    Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length));
                            // The backup holds exactly the member's state: the same fingerprint,
                            // all 20 writes in it.
                            StateDigest inBackup =
                                    SnapshotExport.digestOf(new ByteArrayInputStream(export));
                            assertEquals(asked.raft().stateDigest(), inBackup);
                            assertEquals(
                                    inBackup.revision(),
                                    backup.headers()
                                            .firstValueAsLong("X-Capstan-Snapshot-Revision")
                                            .orElseThrow());
                            assertTrue(inBackup.revision() >= 21, inBackup.toString());
                        });
    }

    @Test
    @Order(6)
    void readinessNamesEveryCheckAndAnswersEachAlone() throws Exception {
        Daemon asked = follower();
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            AdminHttp.Reply ready = get(asked, "/health/ready");
                            assertEquals(200, ready.status(), ready.text());
                            JsonNode checks = ready.json().path("checks");
                            Set<String> names = new HashSet<>();
                            checks.fieldNames().forEachRemaining(names::add);
                            assertEquals(
                                    Set.of(
                                            "web",
                                            "transport",
                                            "raft",
                                            "api",
                                            "artifacts",
                                            "leader",
                                            "applied"),
                                    names);
                            checks.forEach(
                                    result -> assertEquals("pass", result.asText(), ready.text()));
                            assertEquals(
                                    0,
                                    ready.json().path("raft").path("lastContactMillis").asLong());
                        });
        AdminHttp.Reply leaderOnly = get(asked, "/health/ready?check=leader&check=raft");
        assertEquals(200, leaderOnly.status(), leaderOnly.text());
        assertEquals("pass", leaderOnly.json().path("checks").path("leader").asText());
        AdminHttp.Reply unknown = get(asked, "/health/ready?check=quorum");
        assertEquals(400, unknown.status());
        assertEquals("unknown_check", unknown.errorCode());
    }

    @Test
    @Order(7)
    void aMemberLeftAloneIsNotReadyOnceMaxLeaderlessPassedAndShowsItsPeersUnreachable()
            throws Exception {
        Daemon alone = follower();
        List<Daemon> others = cluster.members().stream().filter(d -> d != alone).toList();
        for (Daemon other : others) {
            cluster.stop(cluster.members().indexOf(other));
        }

        // When exactly is LeaderWatchTest's business; here: it happens, and says why.
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            AdminHttp.Reply leader = get(alone, "/health/ready?check=leader");
                            assertEquals(503, leader.status(), leader.text());
                            assertEquals(
                                    "fail", leader.json().path("checks").path("leader").asText());
                        });
        AdminHttp.Reply whole = get(alone, "/health/ready");
        assertEquals(503, whole.status());
        assertEquals("not_ready", whole.json().path("status").asText());
        assertTrue(
                whole.json().path("raft").path("lastContactMillis").asLong()
                        > MAX_LEADERLESS.toMillis(),
                whole.text());
        assertEquals(
                200,
                get(alone, "/health/ready?check=raft&check=web").status(),
                "the components still run: a member without a quorum is healthy, only not ready");

        AdminHttp.Reply status = get(alone, "/v1/cluster");
        assertEquals(
                200, status.status(), "the member list answers without a quorum: " + status.text());
        assertTrue(status.json().path("leader_id").isNull(), status.text());
        for (Daemon other : others) {
            JsonNode raft = byName(status.json().path("members"), name(other)).path("raft");
            assertFalse(raft.path("reachable").asBoolean(), raft.toString());
            assertEquals("connection refused", raft.path("error").asText());
        }
        JsonNode own = byName(status.json().path("members"), name(alone)).path("raft");
        assertTrue(
                own.path("last_contact_ms").asLong() > MAX_LEADERLESS.toMillis(), own.toString());

        AdminHttp.Reply backup = get(alone, "/v1/snapshot");
        assertEquals(200, backup.status(), "a member backs up its own state without a quorum");
        assertEquals(
                alone.raft().stateDigest(),
                SnapshotExport.digestOf(
                        new ByteArrayInputStream(
                                Arrays.copyOf(backup.body(), backup.body().length - 32))));

        AdminHttp.Reply noLeader =
                post(alone, "/v1/cluster/leader", "{\"member\":\"" + name(alone) + "\"}");
        assertEquals(503, noLeader.status(), noLeader.text());
        assertEquals("no_leader", noLeader.errorCode());
        assertNotEquals(NodeStatus.Role.LEADER, alone.raft().status().role());
    }
}
