package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A member's figures for metrics, from a real 3-member group. */
@ExtendWith(RaftClusterExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MemberStatsTest {

    private static long applied(MemberStats stats, String command) {
        return stats.applyLatency().stream()
                .filter(latency -> latency.name().equals(command))
                .mapToLong(MemberStats.Latency::count)
                .sum();
    }

    @Test
    void proposalsApplyTimesKeysAndLeaderChangesAreCounted(RaftCluster cluster) {
        int follower = cluster.anyFollower();
        RaftNode proposer = cluster.node(follower);
        MemberStats before = proposer.stats();

        for (int i = 0; i < 5; i++) {
            cluster.propose(follower, put("key" + i, "value" + i));
        }
        cluster.propose(follower, Ops.compact(3));
        // Compacting the same revision again is refused by the state: applied, so not failed.
        CompletionException refused =
                assertThrows(
                        CompletionException.class, () -> cluster.propose(follower, Ops.compact(3)));
        assertInstanceOf(KeyspaceException.class, refused.getCause());
        cluster.awaitConverged();

        MemberStats after = proposer.stats();
        assertEquals(7, after.proposals() - before.proposals());
        assertEquals(0, after.failedProposals() - before.failedProposals());
        for (int i = 0; i < cluster.size(); i++) {
            MemberStats member = cluster.node(i).stats();
            assertEquals(5, applied(member, "put"), "puts applied by member " + i);
            assertEquals(2, applied(member, "compaction"), "compactions applied by member " + i);
            assertEquals(6, member.revision(), "an empty store is at 1, five puts take it to 6");
            assertEquals(3, member.compactRevision());
            assertEquals(5, member.keys());
            assertEquals(5 * ("key0".length() + "value0".length()), member.keyBytes());
            assertTrue(member.leaderChanges() >= 1, "every member saw the first leader");
            assertEquals(0, member.leases());
        }
    }

    @Test
    void theLatestSnapshotIsReportedWithItsSizeAndIndex(RaftCluster cluster) throws IOException {
        int leader = cluster.awaitLeader();
        cluster.propose(leader, put("a", "1"));
        RaftNode node = cluster.node(leader);
        Instant before = Instant.now().minusSeconds(1);
        long index = node.admin().takeSnapshot().orTimeout(30, TimeUnit.SECONDS).join();

        MemberStats.SnapshotFile snapshot = node.stats().snapshot().orElseThrow();
        assertEquals(index, snapshot.index());
        assertTrue(snapshot.bytes() > 0);
        assertTrue(!snapshot.written().isBefore(before), snapshot.written() + " before " + before);
        Path file = RaftFiles.snapshots(cluster.dataDir(leader)).get(index);
        assertNotNull(file, "no snapshot file at " + index);
        assertEquals(Files.size(file), snapshot.bytes());
    }

    @Test
    void aProposalWithoutAQuorumIsCountedAsFailed(@TempDir Path dir) throws Exception {
        try (RaftCluster cluster =
                new RaftCluster(
                        dir,
                        3,
                        new GrpcTransportBinding(),
                        b -> b.requestTimeout(Duration.ofMillis(500)))) {
            cluster.startAll();
            int leader = cluster.awaitLeader();
            cluster.propose(leader, put("before", "quorum lost"));
            for (int i : cluster.running()) {
                if (i != leader) {
                    cluster.stop(i);
                }
            }
            RaftNode alone = cluster.node(leader);
            MemberStats before = alone.stats();
            assertThrows(CompletionException.class, () -> alone.propose(put("k", "v")).join());
            // Counted before the caller hears of the failure.
            assertEquals(1, alone.stats().failedProposals() - before.failedProposals());
            assertEquals(1, alone.stats().proposals() - before.proposals());
        }
    }

    @Test
    void aMemberNotStartedReportsZeros(@TempDir Path dir) {
        RaftNode idle =
                new RaftNode(
                        RaftSettings.builder(
                                        "n0",
                                        List.of(new Peer("n0", "127.0.0.1:1")),
                                        UUID.randomUUID(),
                                        dir.resolve("n0"))
                                .build(),
                        new GrpcTransportBinding(),
                        Clock.systemUTC());
        MemberStats stats = idle.stats();
        assertEquals(0, stats.proposals());
        assertEquals(0, stats.keys());
        assertEquals(Optional.empty(), stats.snapshot());
        assertEquals(List.of(), stats.applyLatency());
    }
}
