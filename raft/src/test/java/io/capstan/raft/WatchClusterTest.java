package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RangeResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Watches on members of a real 3-member group: fed by each member's own apply. */
@ExtendWith(RaftClusterExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WatchClusterTest {

    private static WatchSpec prefix(String prefix, long start) {
        return new WatchSpec(
                bytes(prefix), RangeReader.prefixEnd(bytes(prefix)), start, true, Set.of(), false);
    }

    @Test
    void aWatchOnAFollowerSeesWritesMadeThroughTheLeaderReadableWhenReported(RaftCluster cluster) {
        int leader = cluster.awaitLeader();
        List<Integer> followers = cluster.running().stream().filter(i -> i != leader).toList();
        RaftNode follower = cluster.node(followers.get(0));
        List<String> unreadable = Collections.synchronizedList(new ArrayList<>());
        RecordingListener live =
                new RecordingListener() {
                    @Override
                    void received(long revision, List<WatchEvent> batch) {
                        // A client that gets an event at revision R and then reads at R on this
                        // member sees it.
                        for (WatchEvent event : batch) {
                            QueryResult read =
                                    follower.query(
                                                    Ops.range(
                                                            Ops.rangeReq(
                                                                            event.kv()
                                                                                    .getKey()
                                                                                    .toStringUtf8(),
                                                                            "")
                                                                    .toBuilder()
                                                                    .setRevision(revision)
                                                                    .build()),
                                                    ReadConsistency.SERIALIZABLE)
                                            .join();
                            RangeResponse range = read.getRange();
                            boolean seen =
                                    event.type() == WatchEvent.Type.PUT
                                            ? range.getKvsCount() == 1
                                                    && range.getKvs(0).equals(event.kv())
                                            : range.getKvsCount() == 0;
                            if (!seen) {
                                unreadable.add(revision + ": " + range);
                            }
                        }
                    }
                };
        follower.watch(prefix("w/", 0), live);

        List<Long> revisions = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            revisions.add(cluster.propose(leader, put("w/" + i, "v" + i)).getRevision());
        }
        revisions.add(cluster.propose(leader, Ops.delete("w/1")).getRevision());
        cluster.propose(leader, put("elsewhere", "x"));

        await().atMost(RaftCluster.WAIT).until(() -> live.eventCount() == 6);
        assertEquals(revisions, live.revisions());
        WatchEvent deleted = live.events().get(5);
        assertEquals(WatchEvent.Type.DELETE, deleted.type());
        assertEquals("v1", deleted.prevKv().getValue().toStringUtf8());
        assertEquals(List.of(), unreadable);

        // The third member replays the same history.
        RecordingListener replayed = new RecordingListener();
        cluster.node(followers.get(1)).watch(prefix("w/", revisions.get(0)), replayed);
        await().atMost(RaftCluster.WAIT).until(() -> replayed.eventCount() == 6);
        assertEquals(live.events(), replayed.events());
        assertEquals(List.of(), live.violations());
    }

    @Test
    void aLeaderChangeDoesNotDisturbAWatchAndStoppingItsMemberEndsIt(RaftCluster cluster) {
        int leader = cluster.awaitLeader();
        int watching =
                cluster.running().stream().filter(i -> i != leader).findFirst().orElseThrow();
        RaftNode member = cluster.node(watching);
        RecordingListener listener = new RecordingListener();
        member.watch(prefix("f/", 0), listener);

        List<Long> revisions = new ArrayList<>();
        revisions.add(cluster.propose(leader, put("f/1", "a")).getRevision());
        cluster.stop(leader);
        int newLeader = cluster.awaitLeader();
        revisions.add(cluster.propose(newLeader, put("f/2", "b")).getRevision());
        revisions.add(cluster.propose(watching, put("f/3", "c")).getRevision());

        await().atMost(RaftCluster.WAIT).until(() -> listener.eventCount() == 3);
        assertEquals(revisions, listener.revisions());
        assertFalse(listener.canceled.isDone());

        cluster.stop(watching);
        WatchCanceled canceled = listener.canceled.join();
        assertEquals(WatchCanceled.Cause.STOPPED, canceled.cause());
        assertEquals(revisions.get(2) + 1, canceled.resumeRevision());
        assertThrows(IllegalStateException.class, () -> member.watch(prefix("f/", 0), listener));
        assertEquals(List.of(), listener.violations());
    }
}
