package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.controller.lifecycle.Component;
import io.capstan.controller.lifecycle.ComponentState;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.PutRequest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first of the five failures in docs/architecture.md: Raft uses the web layer for peer
 * messages, so it must never start before that layer is ready, and must stop before it.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RaftLifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir Path dir;

    /** Passes start through, but holds the readiness of the wrapped component until released. */
    private static Component holdReadiness(Component inner, CompletableFuture<Void> release) {
        return new Component() {
            @Override
            public String name() {
                return inner.name();
            }

            @Override
            public Set<String> dependencies() {
                return inner.dependencies();
            }

            @Override
            public CompletableFuture<Void> start() {
                return inner.start().thenCompose(v -> release);
            }

            @Override
            public CompletableFuture<Void> stop() {
                return inner.stop();
            }
        };
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
    void raftWaitsForTheWebLayerAndPeerRequestsAreRefusedUntilThen() throws Exception {
        CompletableFuture<Void> releaseWeb = new CompletableFuture<>();
        DaemonCluster cluster =
                DaemonCluster.create(
                        dir,
                        3,
                        "web",
                        (i, c) ->
                                i == 2 && c.name().equals(Daemon.WEB)
                                        ? holdReadiness(c, releaseWeb)
                                        : c);
        try (cluster) {
            List<CompletableFuture<Void>> started =
                    cluster.members().stream().map(Daemon::start).toList();
            Daemon held = cluster.member(2);
            Daemon leader =
                    cluster.awaitLeader(List.of(cluster.member(0), cluster.member(1)), WAIT);
            for (int i = 0; i < 20; i++) {
                leader.raft().propose(put("k" + i, "v" + i)).get();
            }

            // Its listener is bound (the other members reach it), but the web layer is not ready:
            assertEquals(ComponentState.STARTING, held.states().get(Daemon.WEB));
            assertEquals(ComponentState.NEW, held.states().get(Daemon.TRANSPORT));
            assertEquals(ComponentState.NEW, held.states().get(Daemon.RAFT));
            assertEquals(
                    NodeStatus.Role.STOPPED, held.raft().status().role(), "Ratis never started");
            InetSocketAddress address = held.webAddress();
            HttpResponse<String> refused =
                    http.send(
                            HttpRequest.newBuilder(
                                            URI.create(
                                                    "http://127.0.0.1:"
                                                            + address.getPort()
                                                            + "/raft/v2/channel"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.headers().firstValue("Retry-After").isPresent());

            releaseWeb.complete(null);
            CompletableFuture.allOf(started.toArray(CompletableFuture[]::new))
                    .get(60, TimeUnit.SECONDS);
            DaemonCluster.awaitTrue(
                    "the late member caught up",
                    WAIT,
                    () -> held.raft().stateDigest().equals(leader.raft().stateDigest()));
            assertEquals(
                    21,
                    held.raft().stateDigest().revision(),
                    "an empty store is at revision 1 and each of the 20 puts adds one");
        }
    }

    @Test
    void stopRunsApiAndArtifactsThenRaftThenTransportThenWeb() throws Exception {
        List<String> stopped = new CopyOnWriteArrayList<>();
        DaemonCluster cluster =
                DaemonCluster.create(
                        dir,
                        1,
                        "web",
                        (i, c) ->
                                new Component() {
                                    @Override
                                    public String name() {
                                        return c.name();
                                    }

                                    @Override
                                    public Set<String> dependencies() {
                                        return c.dependencies();
                                    }

                                    @Override
                                    public CompletableFuture<Void> start() {
                                        return c.start();
                                    }

                                    @Override
                                    public CompletableFuture<Void> stop() {
                                        return c.stop()
                                                .whenComplete((v, e) -> stopped.add(c.name()));
                                    }
                                });
        Daemon daemon = cluster.member(0);
        daemon.start().get(60, TimeUnit.SECONDS);
        cluster.awaitLeader(List.of(daemon), WAIT);
        daemon.raft().propose(put("a", "b")).get();

        HttpResponse<String> ready =
                http.send(
                        HttpRequest.newBuilder(
                                        URI.create(
                                                "http://127.0.0.1:"
                                                        + daemon.webAddress().getPort()
                                                        + "/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"role\":\"leader\""), ready.body());
        assertTrue(ready.body().contains("\"leader\":\"n1\""), ready.body());
        assertTrue(ready.body().contains("\"raft\":\"RUNNING\""), ready.body());

        cluster.close();
        // api and artifacts both stand on raft alone, so either may stop first.
        assertEquals(
                Set.of(Daemon.API, Daemon.ARTIFACTS),
                Set.copyOf(stopped.subList(0, 2)),
                stopped.toString());
        assertEquals(
                List.of(Daemon.RAFT, Daemon.TRANSPORT, Daemon.WEB),
                stopped.subList(2, stopped.size()));
    }
}
