package io.capstan.raft;

import static io.capstan.raft.ArtifactCommandsTest.DIGEST;
import static io.capstan.raft.ArtifactCommandsTest.fetched;
import static io.capstan.raft.ArtifactCommandsTest.register;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.raft.proto.ArtifactGetRequest;
import io.capstan.raft.proto.ArtifactListRequest;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.Query;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Artifact records replicate, survive restarts and travel in installed snapshots. */
@ExtendWith(RaftClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ArtifactClusterTest {

    @Test
    @RaftClusterExtension.SnapshotTuning
    void aMemberDownWhileArtifactsChangedInstallsThemAndEveryMemberListsTheSame(
            RaftCluster cluster) {
        int leader = cluster.awaitLeader();
        cluster.propose(leader, register("n1", 100, "app-a"));
        int follower = cluster.anyFollower();
        cluster.stop(follower);

        leader = cluster.awaitLeader();
        cluster.propose(leader, register("n2", 200, "app-b"));
        cluster.propose(leader, fetched("n1", 4096, ""));
        String value = "x".repeat(512);
        for (int i = 0; i < 40; i++) {
            cluster.propose(leader, Ops.put("k" + (i % 5), value + i));
        }
        for (int member : cluster.running()) {
            cluster.node(member)
                    .admin()
                    .takeSnapshot()
                    .orTimeout(RaftCluster.WAIT.toSeconds(), TimeUnit.SECONDS)
                    .join();
        }
        cluster.start(follower);
        StateDigest digest = cluster.awaitConverged();

        List<ArtifactRecord> expected = list(cluster, leader);
        assertEquals(1, expected.size());
        assertEquals(List.of("n1"), expected.get(0).getHoldersList());
        assertEquals(List.of("app-a", "app-b"), expected.get(0).getReferencesList());
        for (int member = 0; member < cluster.size(); member++) {
            assertEquals(expected, list(cluster, member), "member " + member);
        }
        ArtifactRecord got =
                cluster.query(
                                follower,
                                Query.newBuilder()
                                        .setArtifactGet(
                                                ArtifactGetRequest.newBuilder().setDigest(DIGEST))
                                        .build(),
                                ReadConsistency.LINEARIZABLE)
                        .getArtifactGet()
                        .getArtifact();
        assertEquals(expected.get(0), got);

        for (int member = 0; member < cluster.size(); member++) {
            cluster.stop(member);
        }
        for (int member = 0; member < cluster.size(); member++) {
            cluster.start(member);
        }
        cluster.awaitLeader();
        assertEquals(digest, cluster.awaitConverged());
        for (int member = 0; member < cluster.size(); member++) {
            assertEquals(expected, list(cluster, member), "after a restart, member " + member);
        }
    }

    private static List<ArtifactRecord> list(RaftCluster cluster, int member) {
        return cluster.query(
                        member,
                        Query.newBuilder()
                                .setArtifactList(ArtifactListRequest.getDefaultInstance())
                                .build(),
                        ReadConsistency.SERIALIZABLE)
                .getArtifactList()
                .getArtifactsList();
    }
}
