package io.capstan.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.transport.TestCluster.Node;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A three-member Ratis cluster whose every message travels over the web-layer transport. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebTransportClusterTest {

    private static final long MAX_MESSAGE_BYTES = 16L << 20;

    @TempDir Path dir;

    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void electsLeaderAndReplicatesBlockingAndOrderedAsyncWrites() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        RaftClient client = cluster.client(cluster.nodes.get(0));

        for (int i = 0; i < 10; i++) {
            RaftClientReply reply = client.io().send(Message.valueOf("sync-" + i));
            assertTrue(reply.isSuccess(), reply::toString);
            assertEquals(Integer.toString(i + 1), reply.getMessage().getContent().toStringUtf8());
        }
        // Concurrent async writes from one client take effect in the order they were sent,
        // even though each travels as its own HTTP/2 stream.
        List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            replies.add(client.async().send(Message.valueOf("async-" + i)));
        }
        for (CompletableFuture<RaftClientReply> reply : replies) {
            assertTrue(reply.get(30, TimeUnit.SECONDS).isSuccess());
        }

        List<String> expected = new ArrayList<>();
        IntStream.range(0, 10).forEach(i -> expected.add("sync-" + i));
        IntStream.range(0, 200).forEach(i -> expected.add("async-" + i));
        for (Node node : cluster.nodes) {
            await().atMost(TestCluster.WAIT).until(() -> node.machine.count() == expected.size());
            assertEquals(expected, node.machine.applied(), "applied order on " + node.id);
        }
    }

    @Test
    void writeSentToFollowerIsAnsweredByTheLeader() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node leader = cluster.awaitLeader();
        Node follower = cluster.others(leader).get(0);
        RaftClient client = cluster.client(follower, follower.id);

        RaftClientReply reply = client.io().send(Message.valueOf("via-follower"));

        assertTrue(reply.isSuccess(), reply::toString);
        assertEquals(leader.id, reply.getServerId(), "the write was redirected to the leader");
        for (Node node : cluster.nodes) {
            await().atMost(TestCluster.WAIT)
                    .until(() -> node.machine.applied().equals(List.of("via-follower")));
        }
    }

    @Test
    void linearizableReadThroughFollowerSeesEveryAcknowledgedWrite() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node leader = cluster.awaitLeader();
        Node follower = cluster.others(leader).get(1);
        RaftClient client = cluster.client(leader);

        for (int round = 1; round <= 5; round++) {
            List<CompletableFuture<RaftClientReply>> writes = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                writes.add(client.async().send(Message.valueOf("r" + round + "-" + i)));
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0]))
                    .get(30, TimeUnit.SECONDS);

            // The follower asks the leader for its read index (read-index over the transport)
            // and answers once it has applied that far.
            RaftClientReply read = client.io().sendReadOnly(AppliedLog.COUNT, follower.id);

            assertTrue(read.isSuccess(), read::toString);
            assertEquals(follower.id, read.getServerId());
            assertEquals(
                    Integer.toString(round * 20), read.getMessage().getContent().toStringUtf8());
        }
    }

    @Test
    void newLeaderTakesOverWhenTheLeaderStops() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node old = cluster.awaitLeader();
        RaftClient client = cluster.client(cluster.others(old).get(0));
        assertTrue(client.io().send(Message.valueOf("before")).isSuccess());

        old.server.close();
        Node next = cluster.awaitNewLeader(old);

        RaftClientReply reply = client.io().send(Message.valueOf("after"));
        assertTrue(reply.isSuccess(), reply::toString);
        assertEquals(next.id, reply.getServerId());
        for (Node node : cluster.others(old)) {
            await().atMost(TestCluster.WAIT)
                    .until(() -> node.machine.applied().equals(List.of("before", "after")));
        }
    }

    @Test
    void partitionedLeaderIsReplacedAndCatchesUpAfterHealing() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node old = cluster.awaitLeader();
        List<Node> majority = cluster.others(old);
        RaftClient client = cluster.client(majority.get(0));
        assertTrue(client.io().send(Message.valueOf("before")).isSuccess());

        old.transport.faults().isolate(majority.stream().map(n -> n.id).toList());
        majority.forEach(n -> n.transport.faults().isolate(old.id));
        Node next = cluster.awaitNewLeader(old);

        RaftClientReply reply = client.io().send(Message.valueOf("during"));
        assertTrue(reply.isSuccess(), reply::toString);
        assertEquals(next.id, reply.getServerId());
        assertTrue(
                old.transport.faults().droppedCount() > 0,
                "the isolated leader's messages were dropped");
        assertEquals(
                List.of("before"),
                old.machine.applied(),
                "the isolated member cannot learn new writes");

        cluster.nodes.forEach(n -> n.transport.faults().healAll());
        await().atMost(TestCluster.WAIT)
                .until(() -> old.machine.applied().equals(List.of("before", "during")));
        assertTrue(client.io().send(Message.valueOf("after")).isSuccess());
        for (Node node : cluster.nodes) {
            await().atMost(TestCluster.WAIT)
                    .until(
                            () ->
                                    node.machine
                                            .applied()
                                            .equals(List.of("before", "during", "after")));
        }
    }

    @Test
    void largeWriteIsReplicatedAndOversizedWriteIsRefusedClearly() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        RaftClient client = cluster.client(cluster.nodes.get(0));
        byte[] large = new byte[6 << 20];
        Arrays.fill(large, (byte) 'x');

        RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(large)));

        assertTrue(reply.isSuccess(), reply::toString);
        for (Node node : cluster.nodes) {
            await().atMost(TestCluster.WAIT)
                    .until(() -> node.machine.appliedBytes() == large.length);
        }

        long limit = cluster.nodes.get(0).transport.limits().clientBodyBytes();
        byte[] oversized = new byte[(int) limit + 1];
        IllegalArgumentException refused =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> client.io().send(Message.valueOf(ByteString.copyFrom(oversized))));
        assertTrue(
                refused.getMessage()
                        .contains("exceeds the peer transport's limit of " + limit + " bytes"),
                refused.getMessage());
        for (Node node : cluster.nodes) {
            assertEquals(
                    1, node.machine.count(), "nothing of the refused write reached " + node.id);
        }
    }

    // The leadership proof linearizable reads wait for (LeaderContact): a majority that accepted
    // the leader's term after it was asked for.

    private RaftServer.Division division(Node node) throws Exception {
        return node.server.getDivision(cluster.group.getGroupId());
    }

    private long confirm(Node node) throws Exception {
        return node.transport.confirmLeadership(division(node)).get(30, TimeUnit.SECONDS);
    }

    @Test
    void leaderWithAMajorityConfirmsWithACommitIndexCoveringEveryAcknowledgedWrite()
            throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node leader = cluster.awaitLeader();
        RaftClient client = cluster.client(leader);
        RaftClientReply written = client.io().send(Message.valueOf("w"));
        assertTrue(written.isSuccess(), written::toString);

        long readIndex = confirm(leader);
        assertTrue(readIndex >= written.getLogIndex(), readIndex + " < " + written.getLogIndex());
        // Each round hears from the followers again; the index never goes back.
        assertTrue(confirm(leader) >= readIndex);
    }

    @Test
    void followerIsToldItDoesNotLead() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node follower = cluster.others(cluster.awaitLeader()).get(0);
        ExecutionException failed = assertThrows(ExecutionException.class, () -> confirm(follower));
        assertInstanceOf(NotLeaderException.class, failed.getCause());
    }

    @Test
    void leaderCutOffFromEveryFollowerNeverConfirmsEvenRightAfterARoundThatDid() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node leader = cluster.awaitLeader();
        List<Node> followers = cluster.others(leader);
        confirm(leader);

        leader.transport.faults().isolate(followers.stream().map(n -> n.id).toList());
        followers.forEach(f -> f.transport.faults().isolate(leader.id));
        CompletableFuture<Long> round = leader.transport.confirmLeadership(division(leader));
        ExecutionException failed =
                assertThrows(ExecutionException.class, () -> round.get(30, TimeUnit.SECONDS));
        assertTrue(
                failed.getCause() instanceof NotLeaderException
                        || failed.getCause() instanceof ReadIndexException,
                failed.getCause()::toString);
    }

    @Test
    void leaderAndOneOfTwoFollowersAreAMajority() throws Exception {
        cluster = TestCluster.start(3, dir, MAX_MESSAGE_BYTES);
        Node leader = cluster.awaitLeader();
        Node lost = cluster.others(leader).get(0);
        leader.transport.faults().isolate(lost.id);
        lost.transport.faults().isolate(leader.id);

        RaftClientReply written = cluster.client(leader).io().send(Message.valueOf("w"));
        assertTrue(written.isSuccess(), written::toString);
        assertTrue(confirm(leader) >= written.getLogIndex());
    }
}
