package io.capstan.etcd;

import static io.capstan.etcd.ApiErrorsTest.assertStatus;
import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static io.capstan.etcd.KvApiTest.text;
import static io.capstan.etcd.LockApiTest.grant;
import static io.capstan.etcd.LockApiTest.keys;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.api.election.CampaignRequest;
import io.capstan.etcd.api.election.ElectionGrpc;
import io.capstan.etcd.api.election.LeaderRequest;
import io.capstan.etcd.api.election.ProclaimRequest;
import io.capstan.etcd.api.election.ResignRequest;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.election.LeaderResponse;
import io.etcd.jetcd.election.NoLeaderException;
import io.etcd.jetcd.election.NotLeaderException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * etcd's Election service through jetcd's election client, against the leader and a follower:
 * Campaign, Proclaim, Leader and Resign with exact keys, revisions and values; Observe streaming
 * every leader and value once, in order; etcd's errors ({@code election: no leader}, {@code
 * election: not leader}, a missing leader key) with their gRPC code, UNKNOWN, checked with a plain
 * gRPC stub too; and a campaign that gives up leaving no key.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ElectionApiTest {

    @ParameterizedTest
    @EnumSource(Role.class)
    void campaignProclaimLeaderAndResign(Role role, EtcdCluster cluster) throws Exception {
        Client client = cluster.jetcd(cluster.member(role));
        Election election = client.getElectionClient();
        String name = "election/basic/" + role;
        long a = grant(client, 60);
        long b = grant(client, 60);

        CampaignResponse won = get(election.campaign(bytes(name), a, bytes("a1")));
        LeaderKey leader = won.getLeader();
        assertEquals(name, text(leader.getName()));
        assertEquals(name + "/" + Long.toHexString(a), text(leader.getKey()));
        assertEquals(a, leader.getLease());
        assertEquals(
                won.getHeader().getRevision(),
                leader.getRevision(),
                "the key was created by the campaign");
        assertLeader(election, name, leader, "a1");

        get(election.proclaim(leader, bytes("a2")));
        assertLeader(election, name, leader, "a2");

        CompletableFuture<CampaignResponse> next = election.campaign(bytes(name), b, bytes("b1"));
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).size() == 2);
        assertThrows(
                TimeoutException.class,
                () -> next.get(300, TimeUnit.MILLISECONDS),
                "the second candidate waits while the first leads");
        assertLeader(election, name, leader, "a2");

        get(election.resign(leader));
        LeaderKey second = get(next).getLeader();
        assertEquals(name + "/" + Long.toHexString(b), text(second.getKey()));
        assertLeader(election, name, second, "b1");

        get(election.resign(second));
        assertEquals(List.of(), keys(client, name));
    }

    @Test
    void observeSendsEveryLeaderAndValueOnceInOrder(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        Client client = cluster.jetcd(member);
        Election election = client.getElectionClient();
        String name = "election/observe";
        long a = grant(client, 60);
        long b = grant(client, 60);
        LeaderKey first = get(election.campaign(bytes(name), a, bytes("v1"))).getLeader();

        try (Client observing = Client.builder().endpoints(cluster.endpoint(member)).build()) {
            Observed observed = new Observed();
            observing.getElectionClient().observe(bytes(name), observed);
            assertEquals(List.of(name + "/" + Long.toHexString(a) + "=v1"), observed.take(1));

            get(election.proclaim(first, bytes("v2")));
            get(election.proclaim(first, bytes("v3")));
            CompletableFuture<CampaignResponse> next =
                    election.campaign(bytes(name), b, bytes("w1"));
            await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).size() == 2);
            get(election.resign(first));
            LeaderKey second = get(next).getLeader();
            get(election.proclaim(second, bytes("w2")));
            get(election.resign(second));
            long c = grant(client, 60);
            LeaderKey third = get(election.campaign(bytes(name), c, bytes("x1"))).getLeader();

            String hexB = Long.toHexString(b);
            assertEquals(
                    List.of(
                            name + "/" + Long.toHexString(a) + "=v2",
                            name + "/" + Long.toHexString(a) + "=v3",
                            name + "/" + hexB + "=w1",
                            name + "/" + hexB + "=w2",
                            name + "/" + Long.toHexString(c) + "=x1"),
                    observed.take(5));
            assertNull(observed.values.poll(300, TimeUnit.MILLISECONDS), "nothing is sent twice");
            assertNull(observed.failure.getNow(null));
            get(election.resign(third));
        }
    }

    @Test
    void noLeaderNotLeaderAndAMissingLeaderKeyAreEtcdsErrors(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        Client client = cluster.jetcd(member);
        Election election = client.getElectionClient();
        ElectionGrpc.ElectionBlockingStub stub =
                ElectionGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
        String name = "election/errors";

        ExecutionException none =
                assertThrows(ExecutionException.class, () -> get(election.leader(bytes(name))));
        assertInstanceOf(NoLeaderException.class, none.getCause());
        assertStatus(
                Status.Code.UNKNOWN,
                "election: no leader",
                () ->
                        stub.leader(
                                LeaderRequest.newBuilder()
                                        .setName(ByteString.copyFromUtf8(name))
                                        .build()));

        LeaderKey resigned =
                get(election.campaign(bytes(name), grant(client, 60), bytes("v"))).getLeader();
        get(election.resign(resigned));
        ExecutionException stale =
                assertThrows(
                        ExecutionException.class,
                        () -> get(election.proclaim(resigned, bytes("late"))));
        assertInstanceOf(NotLeaderException.class, stale.getCause());
        io.capstan.etcd.api.election.LeaderKey staleKey =
                io.capstan.etcd.api.election.LeaderKey.newBuilder()
                        .setName(ByteString.copyFromUtf8(name))
                        .setKey(ByteString.copyFrom(resigned.getKey().getBytes()))
                        .setRev(resigned.getRevision())
                        .setLease(resigned.getLease())
                        .build();
        assertStatus(
                Status.Code.UNKNOWN,
                "election: not leader",
                () -> stub.proclaim(ProclaimRequest.newBuilder().setLeader(staleKey).build()));
        // Resigning twice is no error, as in etcd.
        stub.resign(ResignRequest.newBuilder().setLeader(staleKey).build());

        String missing = "\"leader\" field must be provided";
        assertStatus(
                Status.Code.UNKNOWN,
                missing,
                () -> stub.proclaim(ProclaimRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.UNKNOWN,
                missing,
                () -> stub.resign(ResignRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.UNKNOWN,
                "etcdserver: requested lease not found",
                () ->
                        stub.campaign(
                                CampaignRequest.newBuilder()
                                        .setName(ByteString.copyFromUtf8(name))
                                        .setLease(0x7e57_dead_beefL)
                                        .build()));
        assertEquals(List.of(), keys(client, name));
    }

    @Test
    void campaigningAgainWithTheSameLeaseKeepsThePlaceAndTakesTheNewValue(EtcdCluster cluster)
            throws Exception {
        Client client = cluster.jetcd(cluster.awaitLeader());
        Election election = client.getElectionClient();
        String name = "election/again";
        long lease = grant(client, 60);
        LeaderKey first = get(election.campaign(bytes(name), lease, bytes("before"))).getLeader();
        LeaderKey again = get(election.campaign(bytes(name), lease, bytes("after"))).getLeader();

        assertEquals(text(first.getKey()), text(again.getKey()));
        assertEquals(first.getRevision(), again.getRevision());
        assertLeader(election, name, again, "after");
        get(election.resign(again));
    }

    @Test
    void aCampaignThatGivesUpLeavesNoKey(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        Client client = cluster.jetcd(member);
        Election election = client.getElectionClient();
        String name = "election/give-up";
        LeaderKey leader =
                get(election.campaign(bytes(name), grant(client, 60), bytes("leader"))).getLeader();

        CompletableFuture<StatusRuntimeException> failed = new CompletableFuture<>();
        ElectionGrpc.newStub(cluster.channel(member))
                .withDeadlineAfter(2, TimeUnit.SECONDS)
                .campaign(
                        CampaignRequest.newBuilder()
                                .setName(ByteString.copyFromUtf8(name))
                                .setLease(grant(client, 60))
                                .setValue(ByteString.copyFromUtf8("waiting"))
                                .build(),
                        new StreamObserver<>() {
                            @Override
                            public void onNext(
                                    io.capstan.etcd.api.election.CampaignResponse value) {
                                failed.completeExceptionally(
                                        new AssertionError("the campaign won: " + value));
                            }

                            @Override
                            public void onError(Throwable t) {
                                failed.complete((StatusRuntimeException) t);
                            }

                            @Override
                            public void onCompleted() {}
                        });
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).size() == 2);
        assertEquals(
                Status.Code.DEADLINE_EXCEEDED,
                failed.get(30, TimeUnit.SECONDS).getStatus().getCode());
        await().atMost(EtcdCluster.WAIT)
                .until(() -> keys(client, name).equals(List.of(text(leader.getKey()))));
        get(election.resign(leader));
    }

    private static void assertLeader(Election election, String name, LeaderKey leader, String value)
            throws Exception {
        LeaderResponse current = get(election.leader(bytes(name)));
        assertEquals(text(leader.getKey()), text(current.getKv().getKey()));
        assertEquals(leader.getRevision(), current.getKv().getCreateRevision());
        assertEquals(leader.getLease(), current.getKv().getLease());
        assertEquals(value, text(current.getKv().getValue()));
    }

    /**
     * What an Observe stream reported, as "key=value" strings; the queue is the synchronisation.
     */
    static final class Observed implements Election.Listener {
        final BlockingQueue<String> values = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> failure = new CompletableFuture<>();

        @Override
        public void onNext(LeaderResponse response) {
            values.add(text(response.getKv().getKey()) + "=" + text(response.getKv().getValue()));
        }

        @Override
        public void onError(Throwable error) {
            failure.complete(error);
        }

        @Override
        public void onCompleted() {
            failure.complete(new AssertionError("the stream ended"));
        }

        /** The next {@code count} values, waiting for each at most the cluster's wait. */
        List<String> take(int count) throws InterruptedException {
            List<String> taken = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String value = values.poll(EtcdCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
                if (value == null) {
                    throw new AssertionError(
                            "only " + taken + " arrived; stream failure: " + failure.getNow(null));
                }
                taken.add(value);
            }
            return taken;
        }
    }
}
