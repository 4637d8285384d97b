package io.capstan.etcd;

import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static io.capstan.etcd.KvApiTest.text;
import static io.capstan.etcd.LockApiTest.grant;
import static io.capstan.etcd.LockApiTest.keys;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.capstan.raft.NodeStatus;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.lock.LockResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Lock and Election through a member that stays up while the Raft leader is stopped: a held lock
 * stays held (its waiter keeps waiting, then gets it on Unlock), and an Observe stream goes on to
 * report the leader's next value, once, in order. Its own cluster, since it stops a member.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LockElectionFailoverTest {

    @Test
    void aHeldLockAndAnObserveStreamOutliveTheRaftLeader(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        int served = cluster.follower();
        Client client = cluster.jetcd(served);
        Lock locks = client.getLockClient();
        Election election = client.getElectionClient();
        long holder = grant(client, 60);
        long waiter = grant(client, 60);
        String held = text(get(locks.lock(bytes("failover/lock"), holder)).getKey());
        CompletableFuture<LockResponse> waiting = locks.lock(bytes("failover/lock"), waiter);
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, "failover/lock").size() == 2);
        LeaderKey leads =
                get(election.campaign(
                                bytes("failover/election"), grant(client, 60), bytes("before")))
                        .getLeader();
        String leaderKey = text(leads.getKey());

        try (Client observing = Client.builder().endpoints(cluster.endpoint(served)).build()) {
            ElectionApiTest.Observed observed = new ElectionApiTest.Observed();
            observing.getElectionClient().observe(bytes("failover/election"), observed);
            assertEquals(List.of(leaderKey + "=before"), observed.take(1));

            String stopped = cluster.node(leader).nodeId();
            cluster.stopNode(leader).get(30, TimeUnit.SECONDS);
            await().atMost(EtcdCluster.WAIT)
                    .pollInterval(Duration.ofMillis(50))
                    .until(
                            () -> {
                                NodeStatus status = cluster.node(served).status();
                                return status.leaderId().isPresent()
                                        && !status.leaderId().get().equals(stopped);
                            });

            get(election.proclaim(leads, bytes("after")));
            assertEquals(List.of(leaderKey + "=after"), observed.take(1));
            assertNull(observed.failure.getNow(null));

            assertFalse(waiting.isDone(), "the lock is still held");
            assertEquals(
                    List.of(held, "failover/lock/" + Long.toHexString(waiter)),
                    keys(client, "failover/lock"));
            get(locks.unlock(bytes(held)));
            assertEquals("failover/lock/" + Long.toHexString(waiter), text(get(waiting).getKey()));
            assertNull(observed.values.poll(300, TimeUnit.MILLISECONDS), "nothing is sent twice");
        }
    }
}
