package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.capstan.raft.Member;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.RangeRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member removed, wiped and added back (as an operator replaces a member) serves linearizable
 * reads once it is a voter again, whether it came back as a voter or as a learner that was then
 * promoted. The second does not yet: the fault runs found it (kind member-change-learner).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RejoinedMemberReadTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir Path dir;

    @Test
    void aMemberAddedBackAsAVoterServesLinearizableReads() throws Exception {
        replaceAndRead(false);
    }

    /*
     * Fails: once promoted, every linearizable read through the member times out, with the empty-entry
     * read rounds and with the heartbeat rounds alike; writes through it and serializable reads work.
     * Restarting the promoted member (same data) clears it: its reads then succeed.
     */
    @Test
    @Disabled("a learner promoted after it was added back never answers a linearizable read")
    void aMemberAddedBackAsALearnerServesLinearizableReadsOncePromoted() throws Exception {
        replaceAndRead(true);
    }

    private void replaceAndRead(boolean learner) throws Exception {
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, "web", "")) {
            Daemon leader = cluster.awaitLeader(cluster.members(), WAIT);
            int index = cluster.members().indexOf(leader) == 2 ? 1 : 2;
            Daemon leaving = cluster.member(index);
            String peerUrl = "http://127.0.0.1:" + leaving.webAddress().getPort();
            leader.raft().propose(put("before", "1")).get(30, TimeUnit.SECONDS);

            leader.raft().admin().removeMember(leaving.raft().memberId()).get(30, TimeUnit.SECONDS);
            cluster.stop(index);
            deleteTree(dir.resolve("n" + (index + 1)));
            Member added =
                    leader.raft()
                            .admin()
                            .addMember(List.of(peerUrl), learner)
                            .get(30, TimeUnit.SECONDS);
            Daemon back = cluster.restart(index, "capstan.raft.initial-cluster-state = existing");
            if (learner) {
                DaemonCluster.awaitTrue(
                        "the learner is promoted once caught up",
                        WAIT,
                        () -> {
                            try {
                                leader.raft()
                                        .admin()
                                        .promoteMember(added.id())
                                        .get(30, TimeUnit.SECONDS);
                                return true;
                            } catch (Exception e) {
                                return false;
                            }
                        });
            }
            leader.raft().propose(put("after", "2")).get(30, TimeUnit.SECONDS);

            for (int i = 0; i < 20; i++) {
                assertEquals(
                        "2", get(back, "after"), "read " + i + " through the member added back");
            }
            assertEquals("1", get(back, "before"));
        }
    }

    private static Command put(String key, String value) {
        return Command.newBuilder()
                .setPut(
                        PutRequest.newBuilder()
                                .setKey(ByteString.copyFromUtf8(key))
                                .setValue(ByteString.copyFromUtf8(value)))
                .build();
    }

    private static String get(Daemon member, String key)
            throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        var range =
                member.raft()
                        .query(
                                Query.newBuilder()
                                        .setRange(
                                                RangeRequest.newBuilder()
                                                        .setKey(ByteString.copyFromUtf8(key)))
                                        .build(),
                                ReadConsistency.LINEARIZABLE)
                        .get(30, TimeUnit.SECONDS)
                        .getRange();
        return range.getKvsCount() == 0 ? null : range.getKvs(0).getValue().toStringUtf8();
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
