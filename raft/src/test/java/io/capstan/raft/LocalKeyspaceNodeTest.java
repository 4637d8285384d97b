package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.grant;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static io.capstan.raft.Ops.range;
import static io.capstan.raft.Ops.rangeReq;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-memory twin applies, answers, watches and expires as a member does, and refuses what a
 * member refuses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocalKeyspaceNodeTest {
    @TempDir Path dir;

    private LocalKeyspaceNode node;

    private LocalKeyspaceNode start() {
        List<Peer> peers = List.of(new Peer("n0", "127.0.0.1:1"));
        RaftSettings settings =
                RaftSettings.builder("n0", peers, UUID.randomUUID(), dir)
                        .leaseCheckInterval(Duration.ofMillis(50))
                        .build();
        node = LocalKeyspaceNode.start(settings, Clock.systemUTC());
        return node;
    }

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void appliesInOrderAndReadsItsOwnWrites() throws Exception {
        LocalKeyspaceNode node = start();
        for (int i = 1; i <= 100; i++) {
            node.propose(put("k", "v" + i));
        }
        long revision = node.propose(put("k", "last")).get().getRevision();

        QueryResult read = node.query(range(rangeReq("k", "")), ReadConsistency.LINEARIZABLE).get();
        // As in etcd, an empty keyspace is at revision 1.
        assertEquals(102, revision);
        assertEquals("last", read.getRange().getKvs(0).getValue().toStringUtf8());
        assertEquals(101, read.getRange().getKvs(0).getVersion());
        assertEquals(revision, node.appliedRevision());
        assertEquals(NodeStatus.Role.LEADER, node.status().role());
        assertEquals(101, node.status().appliedIndex());
    }

    @Test
    void watchesSeeEveryChangeFromTheirStartRevision() throws Exception {
        LocalKeyspaceNode node = start();
        node.propose(put("w", "before")).get();
        RecordingListener listener = new RecordingListener();
        WatchSpec spec =
                new WatchSpec(
                        bytes("w"),
                        ByteString.EMPTY,
                        1,
                        false,
                        EnumSet.noneOf(WatchSpec.Filter.class),
                        false);
        Watch watch = node.watch(spec, listener);
        node.propose(put("w", "after")).get();
        await().atMost(Duration.ofSeconds(10)).until(() -> listener.eventCount() == 2);
        watch.cancel();
        assertEquals(List.of(2L, 3L), listener.revisions());
        assertEquals(List.of(), listener.violations());
    }

    @Test
    void anExpiredLeaseTakesItsKeys() throws Exception {
        LocalKeyspaceNode node = start();
        long lease = node.propose(grant(7, 1)).get().getLeaseGrant().getId();
        node.propose(put(putReq("leased", "v").toBuilder().setLease(lease).build())).get();

        Query leased = range(rangeReq("leased", ""));
        await().atMost(Duration.ofSeconds(10))
                .until(
                        () ->
                                node.query(leased, ReadConsistency.SERIALIZABLE)
                                                .get()
                                                .getRange()
                                                .getKvsCount()
                                        == 0);
    }

    @Test
    void refusesWhatAMemberRefuses() {
        LocalKeyspaceNode node = start();
        ExecutionException invalid =
                assertThrows(ExecutionException.class, () -> node.propose(put("", "v")).get());
        assertInstanceOf(InvalidCommandException.class, invalid.getCause());

        Command unknownLease = put(putReq("k", "v").toBuilder().setLease(99).build());
        ExecutionException missingLease =
                assertThrows(ExecutionException.class, () -> node.propose(unknownLease).get());
        KeyspaceException refused =
                assertInstanceOf(KeyspaceException.class, missingLease.getCause());
        assertEquals(Failure.Code.LEASE_NOT_FOUND, refused.code());
    }

    @Test
    void afterCloseCallsFailAndWatchesEnd() throws Exception {
        LocalKeyspaceNode node = start();
        RecordingListener listener = new RecordingListener();
        node.watch(WatchSpec.ofKey(bytes("k")), listener);
        node.close();

        assertEquals(NodeStatus.Role.STOPPED, node.status().role());
        CompletionException stopped =
                assertThrows(CompletionException.class, () -> node.propose(put("k", "v")).join());
        assertInstanceOf(IllegalStateException.class, stopped.getCause());
        await().atMost(Duration.ofSeconds(10)).until(() -> listener.cancellation() != null);
        assertTrue(listener.cancellation().reason().contains("stopping"));
    }
}
