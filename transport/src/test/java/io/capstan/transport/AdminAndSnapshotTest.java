package io.capstan.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.transport.TestCluster.Node;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.GroupListReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Ratis's administration requests, and snapshot installation, over the web-layer transport. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AdminAndSnapshotTest {

    @TempDir Path dir;

    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void administrationRequestsReachTheMemberTheyAddress() throws Exception {
        cluster = TestCluster.start(3, dir, 4L << 20);
        Node leader = cluster.awaitLeader();
        Node follower = cluster.others(leader).get(0);
        RaftClient client = cluster.client(leader);

        GroupListReply list = client.getGroupManagementApi(follower.id).list();
        assertEquals(follower.id, list.getServerId());
        assertEquals(List.of(cluster.group.getGroupId()), list.getGroupIds());

        GroupInfoReply info =
                client.getGroupManagementApi(follower.id).info(cluster.group.getGroupId());
        assertEquals(3, info.getGroup().getPeers().size());
        assertEquals(follower.id, info.getServerId());

        assertTrue(client.getLeaderElectionManagementApi(follower.id).pause().isSuccess());
        assertTrue(client.getLeaderElectionManagementApi(follower.id).resume().isSuccess());

        RaftClientReply sameConfiguration =
                client.admin().setConfiguration(List.copyOf(cluster.group.getPeers()));
        assertTrue(sameConfiguration.isSuccess(), sameConfiguration::toString);

        // The leader asks the follower to start an election (start-leader-election over the
        // transport).
        RaftClientReply transfer = client.admin().transferLeadership(follower.id, 20_000);
        assertTrue(transfer.isSuccess(), transfer::toString);
        await().atMost(TestCluster.WAIT).until(() -> follower.isLeader(cluster.group.getGroupId()));
    }

    @Test
    void restartedFollowerBehindAPurgedLogReceivesTheSnapshotInChunks() throws Exception {
        // 2 MiB messages: snapshot chunks of 1 MiB, so the 3 MB snapshot below needs several.
        cluster = TestCluster.start(3, dir, TransportSettings.MIN_MESSAGE_BYTES);
        Node leader = cluster.awaitLeader();
        Node lagging = cluster.others(leader).get(0);
        RaftClient client = cluster.client(leader);
        assertTrue(client.io().send(Message.valueOf("early")).isSuccess());
        await().atMost(TestCluster.WAIT).until(() -> lagging.machine.count() == 1);
        lagging.server.close();

        for (int i = 0; i < 3; i++) {
            byte[] large = new byte[1_000_000];
            Arrays.fill(large, (byte) ('a' + i));
            assertTrue(client.io().send(Message.valueOf(ByteString.copyFrom(large))).isSuccess());
        }
        RaftClientReply snapshot = client.getSnapshotManagementApi(leader.id).create(true, 30_000);
        assertTrue(snapshot.isSuccess(), snapshot::toString);
        long snapshotIndex = snapshot.getLogIndex();
        assertTrue(client.io().send(Message.valueOf("late")).isSuccess());

        cluster.restart(lagging);

        await().atMost(TestCluster.WAIT)
                .until(() -> lagging.machine.applied().equals(leader.machine.applied()));
        assertEquals(
                snapshotIndex,
                lagging.machine.loadedSnapshotIndex(),
                "the follower caught up from the leader's snapshot, not from its log");
        assertEquals(5, lagging.machine.count());
    }
}
