package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.raft.proto.QueryResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A linearizable read needs a majority to accept the leader after the read arrived. Ratis's
 * ReadIndex skips that check while its commit index has not moved since the last check that
 * succeeded, so a leader cut off from every follower would go on answering reads it cannot vouch
 * for (and, once another leader commits writes, answering them stale).
 */
class LeaderReadCheckTest {
    private Path root;
    private RaftCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    @Test
    void leaderThatHearsFromNoFollowerAnswersNoLinearizableRead() throws IOException {
        root = Files.createTempDirectory("capstan-read-check-");
        // The leader keeps believing it leads for seconds after its followers go: long enough
        // to ask it for a read it must not answer.
        cluster =
                new RaftCluster(
                        root,
                        3,
                        new GrpcTransportBinding(),
                        b ->
                                b.electionTimeout(Duration.ofSeconds(6), Duration.ofSeconds(8))
                                        .requestTimeout(Duration.ofSeconds(1)));
        cluster.startAll();
        int leader = cluster.awaitLeader();
        cluster.propose(leader, put("k", "v1"));
        // A read that did reach a majority: Ratis remembers the commit index it vouched for.
        assertEquals(
                "v1",
                cluster.get(leader, "k", ReadConsistency.LINEARIZABLE)
                        .orElseThrow()
                        .getValue()
                        .toStringUtf8());

        for (int member : cluster.running()) {
            if (member != leader) {
                cluster.stop(member);
            }
        }
        assertEquals(
                NodeStatus.Role.LEADER,
                cluster.node(leader).status().role(),
                "the leader has not yet noticed that its followers are gone");

        CompletableFuture<QueryResult> read =
                cluster.node(leader)
                        .query(Ops.range(Ops.rangeReq("k", "")), ReadConsistency.LINEARIZABLE);
        // Refused by the member on its own deadline (get's timeout would be a different failure).
        assertThrows(
                ExecutionException.class,
                () -> read.get(RaftCluster.WAIT.toSeconds(), TimeUnit.SECONDS));
    }
}
