package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.LeaseTimeToLiveRequest;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A real 3-member group over Ratis gRPC on loopback: replication, failover, reads, catch-up. */
@ExtendWith(RaftClusterExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClusterTest {

    @Test
    void writesThroughAFollowerReplicateToEveryMember(RaftCluster cluster) {
        int follower = cluster.anyFollower();
        CommandResult result = cluster.propose(follower, put("greeting", "hello"));
        assertEquals(2, result.getRevision());
        for (int i = 0; i < cluster.size(); i++) {
            int member = i;
            await().atMost(RaftCluster.WAIT)
                    .until(
                            () ->
                                    cluster.get(member, "greeting", ReadConsistency.SERIALIZABLE)
                                            .isPresent());
        }
        cluster.awaitConverged();
    }

    @Test
    void linearizableReadAfterWriteOnAnyMember(RaftCluster cluster) {
        cluster.awaitLeader();
        for (int writer = 0; writer < cluster.size(); writer++) {
            for (int reader = 0; reader < cluster.size(); reader++) {
                String value = "w" + writer + "r" + reader;
                cluster.propose(writer, put("k", value));
                assertEquals(
                        value,
                        cluster.get(reader, "k", ReadConsistency.LINEARIZABLE)
                                .orElseThrow()
                                .getValue()
                                .toStringUtf8(),
                        "member " + reader + " read a stale value");
            }
        }
    }

    @Test
    void refusedCommandsChangeNothing(RaftCluster cluster) {
        cluster.awaitLeader();
        cluster.propose(0, put("a", "1"));
        cluster.propose(0, put("a", "2"));
        cluster.propose(0, Ops.compact(3));
        long applied = cluster.awaitConverged().revision();

        CompletionException invalid =
                assertThrows(CompletionException.class, () -> cluster.propose(1, put("", "v")));
        assertInstanceOf(InvalidCommandException.class, invalid.getCause());

        CompletionException compacted =
                assertThrows(
                        CompletionException.class,
                        () ->
                                cluster.query(
                                        2,
                                        Ops.range(
                                                Ops.rangeReq("a", "").toBuilder()
                                                        .setRevision(2)
                                                        .build()),
                                        ReadConsistency.LINEARIZABLE));
        KeyspaceException refusal = assertInstanceOf(KeyspaceException.class, compacted.getCause());
        assertEquals(Failure.Code.COMPACTED, refusal.code());
        assertEquals(3, refusal.compactRevision());

        CompletionException noLease =
                assertThrows(
                        CompletionException.class,
                        () ->
                                cluster.propose(
                                        1, put(putReq("b", "v").toBuilder().setLease(77).build())));
        assertInstanceOf(KeyspaceException.class, noLease.getCause());
        assertEquals(applied, cluster.awaitConverged().revision());
    }

    @Test
    void leaderFailoverKeepsServingAndTheOldLeaderCatchesUp(RaftCluster cluster) {
        int oldLeader = cluster.awaitLeader();
        cluster.propose(oldLeader, put("before", "1"));
        cluster.stop(oldLeader);

        int newLeader = cluster.awaitLeader();
        assertNotEquals(oldLeader, newLeader);
        int other =
                cluster.running().stream().filter(i -> i != newLeader).findFirst().orElseThrow();
        cluster.propose(other, put("after", "2"));
        assertTrue(cluster.get(newLeader, "before", ReadConsistency.LINEARIZABLE).isPresent());

        cluster.start(oldLeader);
        cluster.awaitConverged();
        assertEquals(
                "2",
                cluster.get(oldLeader, "after", ReadConsistency.SERIALIZABLE)
                        .orElseThrow()
                        .getValue()
                        .toStringUtf8());
    }

    @Test
    void restartedFollowerCatchesUpFromTheLog(RaftCluster cluster) {
        int follower = cluster.anyFollower();
        cluster.stop(follower);
        int leader = cluster.awaitLeader();
        for (int i = 0; i < 20; i++) {
            cluster.propose(leader, put("k" + i, "v" + i));
        }
        cluster.start(follower);
        StateDigest digest = cluster.awaitConverged();
        assertEquals(21, digest.revision());
    }

    @Test
    @RaftClusterExtension.SnapshotTuning
    void restartedFollowerCatchesUpFromASnapshot(RaftCluster cluster) throws IOException {
        int follower = cluster.anyFollower();
        cluster.stop(follower);
        int leader = cluster.awaitLeader();
        String value = "x".repeat(512);
        for (int i = 0; i < 60; i++) {
            cluster.propose(leader, put("k" + (i % 10), value + i));
        }
        // Snapshot the two live members; with small segments and nothing kept, the log behind it
        // is purged, so the stopped follower can only catch up by installing a snapshot.
        for (int member : cluster.running()) {
            long index = cluster.node(member).admin().takeSnapshot().join();
            assertTrue(index > 0);
        }
        assertTrue(!RaftFiles.snapshots(cluster.dataDir(leader)).isEmpty());

        cluster.start(follower);
        StateDigest digest = cluster.awaitConverged();
        assertEquals(61, digest.revision());
        assertTrue(
                !RaftFiles.snapshots(cluster.dataDir(follower)).isEmpty(),
                "the follower installed no snapshot");
        assertEquals(
                value + 59,
                cluster.get(follower, "k9", ReadConsistency.SERIALIZABLE)
                        .orElseThrow()
                        .getValue()
                        .toStringUtf8());

        // Everyone restarts from its own snapshot and log.
        for (int member = 0; member < cluster.size(); member++) {
            cluster.stop(member);
        }
        for (int member = 0; member < cluster.size(); member++) {
            cluster.start(member);
        }
        cluster.awaitLeader();
        assertEquals(digest, cluster.awaitConverged());
    }

    /**
     * Ratis asks for a snapshot every 200 entries; each is written by a thread of its own while the
     * next writes apply. Every member's latest one must hold exactly the state at its revision (the
     * live keyspace's hash there), and Ratis must have heard of it: it purged the log the snapshot
     * covers.
     */
    @Test
    @RaftClusterExtension.AutoSnapshots
    void automaticSnapshotsAreWrittenWhileWritesApplyAndHoldTheStateAtTheirRevision(
            RaftCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        String value = "v".repeat(100);
        // Eight writers at once, so entries apply while each snapshot is being written.
        ExecutorService writers = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int writer = w;
                done.add(
                        writers.submit(
                                () -> {
                                    for (int i = 0; i < 150; i++) {
                                        cluster.propose(
                                                leader,
                                                put("k" + writer + "-" + (i % 7), value + i));
                                    }
                                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            writers.shutdownNow();
        }
        StateDigest digest = cluster.awaitConverged();
        for (int member = 0; member < cluster.size(); member++) {
            Map.Entry<Long, Path> latest = RaftFiles.snapshots(cluster.dataDir(member)).lastEntry();
            assertNotNull(latest, "member " + member + " has no snapshot");
            Path snapshot = latest.getValue();
            MvccStore held;
            try (InputStream in = Files.newInputStream(snapshot)) {
                held = SnapshotCodec.read(in);
            }
            long revision = held.revision();
            assertTrue(revision > 200, "snapshot " + snapshot + " at revision " + revision);
            KvHash live = cluster.node(member).hashKv(revision);
            KvHash inSnapshot = held.hashKv(revision);
            assertEquals(live.hash(), inSnapshot.hash(), "member " + member + " at " + revision);
            assertTrue(
                    RaftFiles.logSegments(cluster.dataDir(member)).firstKey() > 1,
                    "member "
                            + member
                            + " kept its log from the start: Ratis heard of no snapshot");
        }
    }

    @Test
    void expiredLeaseDeletesItsKeysOnEveryMember(RaftCluster cluster) {
        int leader = cluster.awaitLeader();
        long lease = cluster.propose(leader, Ops.grant(0, 3)).getLeaseGrant().getId();
        long kept = cluster.propose(leader, Ops.grant(0, 3)).getLeaseGrant().getId();
        cluster.propose(leader, put(putReq("ephemeral", "v").toBuilder().setLease(lease).build()));
        cluster.propose(leader, put(putReq("renewed", "v").toBuilder().setLease(kept).build()));
        cluster.propose(leader, put("durable", "v"));

        // Keep one lease alive through a follower while the other runs out.
        int follower = cluster.anyFollower();
        await().atMost(RaftCluster.WAIT)
                .pollInterval(Duration.ofMillis(200))
                .until(
                        () -> {
                            cluster.propose(follower, Ops.keepAlive(kept));
                            return cluster.get(follower, "ephemeral", ReadConsistency.LINEARIZABLE)
                                    .isEmpty();
                        });
        cluster.propose(follower, Ops.keepAlive(kept));
        for (int member = 0; member < cluster.size(); member++) {
            assertTrue(cluster.get(member, "renewed", ReadConsistency.LINEARIZABLE).isPresent());
            assertTrue(cluster.get(member, "durable", ReadConsistency.LINEARIZABLE).isPresent());
        }
        QueryResult ttl =
                cluster.query(
                        follower,
                        Query.newBuilder()
                                .setLeaseTimeToLive(
                                        LeaseTimeToLiveRequest.newBuilder().setId(lease))
                                .build(),
                        ReadConsistency.LINEARIZABLE);
        assertEquals(-1, ttl.getLeaseTimeToLive().getTtl());
        QueryResult alive =
                cluster.query(
                        follower,
                        Query.newBuilder()
                                .setLeaseTimeToLive(
                                        LeaseTimeToLiveRequest.newBuilder()
                                                .setId(kept)
                                                .setKeys(true))
                                .build(),
                        ReadConsistency.LINEARIZABLE);
        assertEquals(3, alive.getLeaseTimeToLive().getGrantedTtl());
        assertEquals(1, alive.getLeaseTimeToLive().getKeysCount());
        cluster.awaitConverged();
    }

    @Test
    void aNewClusterExportsASnapshotBeforeAnyWrite(RaftCluster cluster) throws Exception {
        cluster.awaitLeader();
        int follower = cluster.anyFollower();
        try (SnapshotExport export =
                cluster.node(follower).admin().exportSnapshot().get(30, TimeUnit.SECONDS)) {
            assertEquals(1, export.revision(), "nothing was written");
            StateDigest exported =
                    SnapshotExport.digestOf(new ByteArrayInputStream(readAll(export)));
            assertEquals(cluster.node(follower).stateDigest(), exported);
        }
    }

    @Test
    void everyMemberHashesTheHistoryAlikeAndTheLeaderHandsOverOnRequest(RaftCluster cluster)
            throws Exception {
        int leader = cluster.awaitLeader();
        cluster.propose(leader, put("a", "1"));
        long revision = cluster.propose(leader, put("b", "2")).getRevision();
        cluster.awaitConverged();
        KvHash expected = cluster.node(leader).hashKv(revision);
        for (int i = 0; i < cluster.size(); i++) {
            assertEquals(expected, cluster.node(i).hashKv(revision));
        }

        int target = cluster.anyFollower();
        cluster.node(leader)
                .admin()
                .transferLeadership(cluster.node(target).nodeId())
                .get(30, TimeUnit.SECONDS);
        assertEquals(target, cluster.awaitLeader());
        Throwable notLeader =
                assertThrows(
                                Exception.class,
                                () ->
                                        cluster.node(leader)
                                                .admin()
                                                .transferLeadership(cluster.node(leader).nodeId())
                                                .get(30, TimeUnit.SECONDS))
                        .getCause();
        assertInstanceOf(NotLeaderException.class, notLeader);
    }

    private static byte[] readAll(SnapshotExport export) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (export.read(buffer.clear()) >= 0) {
            all.write(buffer.array(), 0, buffer.position());
        }
        return all.toByteArray();
    }
}
