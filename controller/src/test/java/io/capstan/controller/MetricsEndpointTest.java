package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.NodeStatus;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} of a real member of an in-JVM 3-member cluster (web transport), scraped
 * after HTTP gateway writes, gRPC calls, a lease, a watch and a snapshot: the request counters
 * count exactly the requests made, and the Raft, keyspace, Ratis and JVM series are there with
 * plausible values.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class MetricsEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String HTTP = "capstan_http_request_duration_seconds";
    private static final String GRPC = "capstan_grpc_server_handling_seconds";

    @TempDir Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private static String base(Daemon member) {
        InetSocketAddress web = member.webAddress();
        return "http://127.0.0.1:" + web.getPort();
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Scrape scrape(Daemon member) throws Exception {
        HttpResponse<String> response = get(base(member) + "/metrics");
        assertEquals(200, response.statusCode(), response.body());
        return new Scrape(response.body());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Test
    void aMemberServesItsRequestRaftRatisAndJvmMetrics() throws Exception {
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, "web", "")) {
            Daemon leader = cluster.awaitLeader(cluster.members(), WAIT);
            int index = cluster.members().indexOf(leader);
            DaemonCluster.awaitTrue(
                    "the leader is ready",
                    WAIT,
                    () -> uncheckedStatus(base(leader) + "/health/ready") == 200);
            Scrape before = scrape(leader);

            int gatewayPuts = 4;
            for (int i = 0; i < gatewayPuts; i++) {
                HttpResponse<String> put =
                        http.send(
                                HttpRequest.newBuilder(URI.create(base(leader) + "/v3/kv/put"))
                                        .POST(
                                                HttpRequest.BodyPublishers.ofString(
                                                        "{\"key\":\""
                                                                + b64("gw" + i)
                                                                + "\",\"value\":\""
                                                                + b64("value" + i)
                                                                + "\"}"))
                                        .timeout(WAIT)
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertEquals(200, put.statusCode(), put.body());
            }
            int grpcPuts = 3;
            try (Client etcd =
                            Client.builder()
                                    .endpoints("http://127.0.0.1:" + cluster.apiPort(index))
                                    .build();
                    Watch.Watcher watcher =
                            etcd.getWatchClient().watch(bytes("gw0"), response -> {})) {
                for (int i = 0; i < grpcPuts; i++) {
                    etcd.getKVClient()
                            .put(bytes("grpc" + i), bytes("value" + i))
                            .get(30, TimeUnit.SECONDS);
                }
                etcd.getLeaseClient().grant(60).get(30, TimeUnit.SECONDS);
                long snapshotIndex = leader.raft().admin().takeSnapshot().get(30, TimeUnit.SECONDS);

                // Requests are counted once their responses are complete: wait for the last ones.
                DaemonCluster.awaitTrue(
                        "requests counted and the watch open",
                        WAIT,
                        () -> {
                            Scrape s = uncheckedScrape(leader);
                            return s.value(
                                                            HTTP + "_count",
                                                            "route",
                                                            "/v3/kv/put",
                                                            "method",
                                                            "POST",
                                                            "code",
                                                            "200")
                                                    .orElse(0)
                                            == gatewayPuts
                                    && s.value(
                                                            GRPC + "_count",
                                                            "service",
                                                            "etcdserverpb.KV",
                                                            "method",
                                                            "Put",
                                                            "code",
                                                            "OK")
                                                    .orElse(0)
                                            == grpcPuts
                                    && s.get("capstan_watchers") >= 1;
                        });
                Scrape after = scrape(leader);

                assertEquals("histogram", after.types.get(HTTP));
                assertEquals(
                        gatewayPuts,
                        after.get(
                                HTTP + "_bucket",
                                "route",
                                "/v3/kv/put",
                                "method",
                                "POST",
                                "code",
                                "200",
                                "le",
                                "+Inf"));
                assertTrue(
                        after.get(
                                        HTTP + "_sum",
                                        "route",
                                        "/v3/kv/put",
                                        "method",
                                        "POST",
                                        "code",
                                        "200")
                                > 0);
                assertEquals(
                        1,
                        after.get(
                                GRPC + "_count",
                                "service",
                                "etcdserverpb.Lease",
                                "method",
                                "LeaseGrant",
                                "code",
                                "OK"));

                NodeStatus status = leader.raft().status();
                assertTrue(after.get("capstan_raft_commit_index") > 0);
                assertTrue(after.get("capstan_raft_applied_index") > 0);
                assertTrue(after.get("capstan_raft_applied_index") <= status.appliedIndex());
                assertTrue(after.get("capstan_raft_term") >= 1);
                assertEquals(1, after.get("capstan_raft_role", "role", "leader"));
                assertEquals(0, after.get("capstan_raft_role", "role", "follower"));
                assertEquals(1, after.get("capstan_raft_has_leader"));
                assertTrue(after.get("capstan_raft_leader_changes_seen_total") >= 1);
                assertTrue(
                        after.get("capstan_raft_proposals_total")
                                        - before.get("capstan_raft_proposals_total")
                                >= gatewayPuts + grpcPuts + 1,
                        "puts and the lease grant were proposed here");
                assertEquals(
                        before.get("capstan_raft_proposals_failed_total"),
                        after.get("capstan_raft_proposals_failed_total"));
                assertEquals(
                        gatewayPuts + grpcPuts,
                        after.get("capstan_raft_apply_duration_seconds_count", "command", "put"));
                assertEquals(
                        1,
                        after.get(
                                "capstan_raft_apply_duration_seconds_count",
                                "command",
                                "lease_grant"));

                assertEquals(
                        1 + gatewayPuts + grpcPuts,
                        after.get("capstan_keyspace_revision"),
                        "an empty store is at 1, each put adds one");
                assertEquals(-1, after.get("capstan_keyspace_compact_revision"));
                assertEquals(gatewayPuts + grpcPuts, after.get("capstan_keyspace_keys"));
                assertEquals(
                        gatewayPuts * ("gw0".length() + "value0".length())
                                + grpcPuts * ("grpc0".length() + "value0".length()),
                        after.get("capstan_keyspace_bytes"));
                assertEquals(1, after.get("capstan_leases"));
                assertEquals(0, after.get("capstan_watch_pending_events"));
                assertTrue(after.get("capstan_snapshot_size_bytes") > 0);
                assertTrue(after.get("capstan_snapshot_index") >= snapshotIndex);
                double age = after.get("capstan_snapshot_age_seconds");
                assertTrue(age >= 0 && age < 120, "snapshot age " + age);

                // Ratis's own registries, this member's only: one applied index, not one per member
                // of the JVM.
                assertTrue(after.get("ratis_state_machine_applied_index") > 0);
                assertFalse(
                        after.all("ratis_leader_election_election_count_total").isEmpty(),
                        "leader election metrics");
                for (Daemon member : cluster.members()) {
                    if (member != leader) {
                        String peer = member.raft().nodeId();
                        assertTrue(
                                after.get("ratis_log_appender_follower_match_index", "peer", peer)
                                        > 0,
                                "log appender metrics for follower " + peer);
                    }
                }
                assertFalse(after.all("jvm_memory_used_bytes").isEmpty(), "JVM metrics");
            }

            // A follower has no log appender, and shows its own role.
            Daemon follower =
                    cluster.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
            Scrape followerScrape = scrape(follower);
            assertEquals(1, followerScrape.get("capstan_raft_role", "role", "follower"));
            assertEquals(List.of(), followerScrape.all("ratis_log_appender_follower_match_index"));
            assertTrue(followerScrape.get("ratis_state_machine_applied_index") > 0);
        }
    }

    @Test
    void metricsAreTextInPrometheusFormat() throws Exception {
        try (DaemonCluster cluster = DaemonCluster.start(dir, 1, "web", "")) {
            HttpResponse<String> response = get(base(cluster.member(0)) + "/metrics");
            assertEquals(200, response.statusCode());
            assertEquals(
                    "text/plain; version=0.0.4; charset=utf-8",
                    response.headers().firstValue("Content-Type").orElseThrow());
            Scrape scrape = new Scrape(response.body());
            assertEquals("counter", scrape.types.get("capstan_raft_proposals_total"));
            assertEquals("gauge", scrape.types.get("capstan_raft_commit_index"));
        }
    }

    private int uncheckedStatus(String url) {
        try {
            return get(url).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private Scrape uncheckedScrape(Daemon member) {
        try {
            return scrape(member);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
