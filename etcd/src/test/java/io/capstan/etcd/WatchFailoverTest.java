package io.capstan.etcd;

import static io.capstan.etcd.WatchApiTest.bytes;
import static io.capstan.etcd.WatchApiTest.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.raft.NodeStatus;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Watches on a Raft group: a follower's watch sees writes made through the leader, and a watch on a
 * member that stays up survives the Raft leader being stopped (writes made after the new election
 * arrive on the same watch). Its own cluster, since it stops a member: that test is last.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WatchFailoverTest {

    @Test
    @Order(1)
    void aFollowerWatchSeesWritesMadeThroughTheLeader(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        int follower = cluster.follower();
        WatchApiTest.Events events = new WatchApiTest.Events();
        try (Watch.Watcher w =
                cluster.jetcd(follower)
                        .getWatchClient()
                        .watch(
                                bytes("follower/"),
                                WatchApiTest.notified().isPrefix(true).build(),
                                events.listener())) {
            events.awaitCreated();
            put(cluster.jetcd(leader), "follower/x", "1");
            assertEquals(List.of("PUT follower/x=1"), events.take(1));
        }
    }

    @Test
    @Order(2)
    void watchSurvivesTheLeaderBeingStopped(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        int watched = cluster.follower();
        Client client = cluster.jetcd(watched);
        WatchApiTest.Events events = new WatchApiTest.Events();
        try (Watch.Watcher w =
                client.getWatchClient()
                        .watch(
                                bytes("failover/"),
                                WatchApiTest.notified().isPrefix(true).build(),
                                events.listener())) {
            events.awaitCreated();
            put(client, "failover/before", "1");
            assertEquals(List.of("PUT failover/before=1"), events.take(1));

            String stopped = cluster.node(leader).nodeId();
            cluster.stopNode(leader).get(30, TimeUnit.SECONDS);
            await().atMost(EtcdCluster.WAIT)
                    .pollInterval(Duration.ofMillis(50))
                    .until(
                            () -> {
                                NodeStatus status = cluster.node(watched).status();
                                return status.leaderId().isPresent()
                                        && !status.leaderId().get().equals(stopped);
                            });

            put(client, "failover/after", "2");
            assertEquals(List.of("PUT failover/after=2"), events.take(1));
        }
    }
}
