package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RangeResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The daemon's cluster behaviour, written once and run over both Raft transports: the web layer's
 * and Ratis's own gRPC one (STYLE.md, "a plug-in with a twin").
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ClusterOverBothTransportsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir Path dir;

    private static Command put(String key, String value) {
        return Command.newBuilder()
                .setPut(
                        PutRequest.newBuilder()
                                .setKey(ByteString.copyFromUtf8(key))
                                .setValue(ByteString.copyFromUtf8(value)))
                .build();
    }

    private static String get(Daemon member, String key, ReadConsistency consistency)
            throws Exception {
        RangeResponse range =
                member.raft()
                        .query(
                                Query.newBuilder()
                                        .setRange(
                                                RangeRequest.newBuilder()
                                                        .setKey(ByteString.copyFromUtf8(key)))
                                        .build(),
                                consistency)
                        .get()
                        .getRange();
        return range.getKvsCount() == 0 ? null : range.getKvs(0).getValue().toStringUtf8();
    }

    private static void awaitConverged(DaemonCluster cluster, List<Daemon> members)
            throws InterruptedException {
        DaemonCluster.awaitTrue(
                "every member applied the same log",
                WAIT,
                () -> members.stream().map(m -> m.raft().stateDigest()).distinct().count() == 1);
    }

    private static final Pattern SNAPSHOT_FILE = Pattern.compile("snapshot\\.\\d+_(\\d+)");

    /**
     * The log index of the newest snapshot file under {@code dataDir}, -1 when there is none. Ratis
     * purges log segments while this walks; a file gone mid-walk means walk again.
     */
    private static long latestSnapshotIndex(Path dataDir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                return files.map(p -> SNAPSHOT_FILE.matcher(p.getFileName().toString()))
                        .filter(Matcher::matches)
                        .mapToLong(m -> Long.parseLong(m.group(1)))
                        .max()
                        .orElse(-1);
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof NoSuchFileException) || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    /**
     * A linearizable read needs a majority to accept the leader after the read arrived. Ratis's own
     * ReadIndex skips that while its commit index has not moved since its last check, so a leader
     * whose followers are gone (and which has not noticed yet) must still answer no such read.
     */
    @ParameterizedTest
    @ValueSource(strings = {"web", "grpc"})
    void leaderWhoseFollowersAreGoneAnswersNoLinearizableRead(String transport) throws Exception {
        // Long election timeouts: the leader keeps believing it leads while it is asked.
        String slow =
                "capstan.raft { election-timeout-min = 6s, election-timeout-max = 8s, request-timeout = 1s }";
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, transport, slow)) {
            Daemon leader = cluster.awaitLeader(cluster.members(), WAIT);
            leader.raft().propose(put("k", "v1")).get();
            assertEquals(
                    "v1",
                    get(leader, "k", ReadConsistency.LINEARIZABLE),
                    "a read a majority vouched for");

            for (int i = 0; i < 3; i++) {
                if (cluster.member(i) != leader) {
                    cluster.stop(i);
                }
            }
            assertEquals(
                    NodeStatus.Role.LEADER,
                    leader.raft().status().role(),
                    "it has not noticed yet");
            assertThrows(
                    ExecutionException.class, () -> get(leader, "k", ReadConsistency.LINEARIZABLE));
            assertEquals(
                    "v1",
                    get(leader, "k", ReadConsistency.SERIALIZABLE),
                    "its own state it still serves");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"web", "grpc"})
    void anyMemberWritesAndEveryMemberReadsItsOwnWriteLinearizably(String transport)
            throws Exception {
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, transport, "")) {
            cluster.awaitLeader(cluster.members(), WAIT);
            for (int i = 0; i < 30; i++) {
                Daemon writer = cluster.member(i % 3);
                Daemon reader = cluster.member((i + 1) % 3);
                writer.raft().propose(put("key" + i, "value" + i)).get();
                // A linearizable read on another member sees the acknowledged write at once.
                assertEquals(
                        "value" + i,
                        get(reader, "key" + i, ReadConsistency.LINEARIZABLE),
                        "read of key" + i + " via " + reader.raft().nodeId());
            }
            awaitConverged(cluster, cluster.members());
            // An empty store is at revision 1, as in etcd: 30 writes take it to 31.
            assertEquals(31, cluster.member(0).raft().stateDigest().revision());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"web", "grpc"})
    void leaderFailoverThenTheOldLeaderRestartsAndCatchesUp(String transport) throws Exception {
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, transport, "")) {
            Daemon oldLeader = cluster.awaitLeader(cluster.members(), WAIT);
            int old = cluster.members().indexOf(oldLeader);
            oldLeader.raft().propose(put("before", "failover")).get();

            cluster.stop(old);
            List<Daemon> survivors =
                    IntStream.range(0, 3).filter(i -> i != old).mapToObj(cluster::member).toList();
            Daemon newLeader = cluster.awaitLeader(survivors, WAIT);
            assertNotSame(oldLeader, newLeader);
            for (int i = 0; i < 20; i++) {
                survivors.get(i % 2).raft().propose(put("after" + i, "v" + i)).get();
            }

            Daemon restarted = cluster.restart(old);
            awaitConverged(cluster, cluster.members());
            assertEquals("failover", get(restarted, "before", ReadConsistency.SERIALIZABLE));
            assertEquals("v19", get(restarted, "after19", ReadConsistency.SERIALIZABLE));
            assertTrue(restarted.raft().status().role() != NodeStatus.Role.STOPPED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"web", "grpc"})
    void followerBehindAPurgedLogCatchesUpFromASnapshot(String transport) throws Exception {
        String snapshotsQuickly =
                "capstan.raft { log-segment-size = 4096, log-entries-kept-after-snapshot = 0 }";
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, transport, snapshotsQuickly)) {
            Daemon leader = cluster.awaitLeader(cluster.members(), WAIT);
            int follower = (cluster.members().indexOf(leader) + 1) % 3;
            cluster.stop(follower);
            String value = "x".repeat(512);
            for (int i = 0; i < 60; i++) {
                leader.raft().propose(put("k" + (i % 10), value + i)).get();
            }
            for (int i = 0; i < 3; i++) {
                if (i != follower) {
                    assertTrue(cluster.member(i).raft().admin().takeSnapshot().get() > 0);
                }
            }
            long leaderSnapshot =
                    latestSnapshotIndex(dir.resolve("n" + (cluster.members().indexOf(leader) + 1)));
            // A member may snapshot what it applied as it stops; the follower stopped before the 60
            // puts.
            assertTrue(latestSnapshotIndex(dir.resolve("n" + (follower + 1))) < leaderSnapshot);
            Daemon restarted = cluster.restart(follower);
            awaitConverged(cluster, cluster.members());
            assertTrue(
                    latestSnapshotIndex(dir.resolve("n" + (follower + 1))) >= leaderSnapshot,
                    "the log behind the snapshot was purged, so the follower must have installed it");
            assertEquals(value + 59, get(restarted, "k9", ReadConsistency.SERIALIZABLE));
            assertEquals(61, restarted.raft().stateDigest().revision());
        }
    }
}
