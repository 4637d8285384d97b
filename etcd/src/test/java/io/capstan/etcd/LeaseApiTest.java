package io.capstan.etcd;

import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static io.capstan.etcd.KvApiTest.text;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrantResponse;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.capstan.etcd.api.LeaseLeasesRequest;
import io.capstan.etcd.api.LeaseStatus;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * etcd's Lease service through jetcd against the leader and a follower: grant, time-to-live with
 * keys, revoke, keep-alive streams that keep a lease alive, and leases that expire and take their
 * keys. Client-chosen ids and LeaseLeases, which jetcd does not offer, use a plain gRPC stub.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LeaseApiTest {

    /**
     * The test cluster's longest election timeout is 1.2 s, so etcd's rule raises shorter leases to
     * 2 s.
     */
    private static final long MIN_TTL = 2;

    @ParameterizedTest
    @EnumSource(Role.class)
    void grantTimeToLiveAndRevoke(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        Lease leases = cluster.jetcd(member).getLeaseClient();
        KV kv = cluster.jetcd(member).getKVClient();
        ByteSequence key = bytes("lease/revoke/" + role);

        var granted = get(leases.grant(60));
        long id = granted.getID();
        assertTrue(id > 0);
        assertEquals(60, granted.getTTL());
        get(kv.put(key, bytes("held"), PutOption.builder().withLeaseId(id).build()));

        LeaseTimeToLiveResponse alive =
                get(leases.timeToLive(id, LeaseOption.builder().withAttachedKeys().build()));
        assertEquals(id, alive.getID());
        assertEquals(60, alive.getGrantedTTL());
        assertTrue(alive.getTTL() > 0 && alive.getTTL() <= 60, "ttl " + alive.getTTL());
        assertEquals(List.of(key), alive.getKeys());
        assertEquals(cluster.memberId(member), alive.getHeader().getMemberId());

        List<Long> listed =
                LeaseGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .leaseLeases(LeaseLeasesRequest.getDefaultInstance())
                        .getLeasesList()
                        .stream()
                        .map(LeaseStatus::getID)
                        .toList();
        assertTrue(listed.contains(id), listed + " lacks " + id);

        get(leases.revoke(id));
        assertEquals(0, get(kv.get(key)).getCount(), "revoking a lease deletes its keys");
        assertEquals(-1, get(leases.timeToLive(id, LeaseOption.DEFAULT)).getTTL());
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void clientChosenIdAndEtcdsMinimumTtl(Role role, EtcdCluster cluster) {
        int member = cluster.member(role);
        long chosen = 0x7e57_0000L + role.ordinal();
        LeaseGrantResponse granted =
                LeaseGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .leaseGrant(LeaseGrantRequest.newBuilder().setID(chosen).setTTL(1).build());

        assertEquals(chosen, granted.getID());
        assertEquals(MIN_TTL, granted.getTTL(), "a TTL below the minimum is raised to it");
        assertEquals(cluster.clusterId(), granted.getHeader().getClusterId());
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void keepAliveStreamKeepsALeaseAliveUntilItStops(Role role, EtcdCluster cluster)
            throws Exception {
        int member = cluster.member(role);
        Lease leases = cluster.jetcd(member).getLeaseClient();
        KV kv = cluster.jetcd(member).getKVClient();
        ByteSequence key = bytes("lease/keepalive/" + role);
        long id = get(leases.grant(MIN_TTL)).getID();
        get(kv.put(key, bytes("kept"), PutOption.builder().withLeaseId(id).build()));
        long start = System.nanoTime();

        BlockingQueue<io.etcd.jetcd.lease.LeaseKeepAliveResponse> renewals =
                new LinkedBlockingQueue<>();
        try (CloseableClient stream = leases.keepAlive(id, new Collect<>(renewals))) {
            // Twice the TTL has passed with renewals arriving: without them the lease would be
            // gone.
            await().atMost(EtcdCluster.WAIT)
                    .until(
                            () ->
                                    renewals.size() >= 3
                                            && System.nanoTime() - start > 2 * seconds(MIN_TTL));
            assertEquals(1, get(kv.get(key)).getCount(), "the renewed lease still holds its key");
            io.etcd.jetcd.lease.LeaseKeepAliveResponse renewal = renewals.peek();
            assertEquals(id, renewal.getID());
            assertEquals(MIN_TTL, renewal.getTTL());
        }

        await().atMost(EtcdCluster.WAIT).until(() -> get(kv.get(key)).getCount() == 0);
        assertEquals(-1, get(leases.timeToLive(id, LeaseOption.DEFAULT)).getTTL());
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void anExpiredLeaseTakesItsKeys(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        Lease leases = cluster.jetcd(member).getLeaseClient();
        KV kv = cluster.jetcd(member).getKVClient();
        String prefix = "lease/expiry/" + role + "/";
        long id = get(leases.grant(MIN_TTL)).getID();
        get(kv.put(bytes(prefix + "a"), bytes("1"), PutOption.builder().withLeaseId(id).build()));
        get(kv.put(bytes(prefix + "b"), bytes("2"), PutOption.builder().withLeaseId(id).build()));
        get(kv.put(bytes(prefix + "unleased"), bytes("3")));

        await().atMost(EtcdCluster.WAIT)
                .until(
                        () ->
                                get(kv.get(
                                                        bytes(prefix),
                                                        GetOption.builder().isPrefix(true).build()))
                                                .getCount()
                                        == 1);
        assertEquals("3", text(get(kv.get(bytes(prefix + "unleased"))).getKvs().get(0).getValue()));
        assertEquals(-1, get(leases.timeToLive(id, LeaseOption.DEFAULT)).getTTL());
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void keepAliveStreamAnswersEveryRequestThenCompletes(Role role, EtcdCluster cluster)
            throws Exception {
        int member = cluster.member(role);
        long id = get(cluster.jetcd(member).getLeaseClient().grant(30)).getID();
        long missing = 0x0dd_1d;
        BlockingQueue<LeaseKeepAliveResponse> answers = new LinkedBlockingQueue<>();
        CompletableFuture<Void> completed = new CompletableFuture<>();
        StreamObserver<LeaseKeepAliveRequest> requests =
                LeaseGrpc.newStub(cluster.channel(member))
                        .leaseKeepAlive(
                                new StreamObserver<>() {
                                    @Override
                                    public void onNext(LeaseKeepAliveResponse response) {
                                        answers.add(response);
                                    }

                                    @Override
                                    public void onError(Throwable error) {
                                        completed.completeExceptionally(error);
                                    }

                                    @Override
                                    public void onCompleted() {
                                        completed.complete(null);
                                    }
                                });

        requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
        requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(missing).build());
        requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
        requests.onCompleted();
        completed.get(30, TimeUnit.SECONDS);

        List<LeaseKeepAliveResponse> received = new ArrayList<>(answers);
        assertEquals(3, received.size(), received.toString());
        assertEquals(
                List.of(30L, 30L),
                received.stream()
                        .filter(r -> r.getID() == id)
                        .map(LeaseKeepAliveResponse::getTTL)
                        .toList());
        LeaseKeepAliveResponse unknown =
                received.stream().filter(r -> r.getID() == missing).findFirst().orElse(null);
        assertNotNull(unknown, "no answer for the missing lease");
        assertEquals(0, unknown.getTTL(), "a lease that does not exist renews to TTL 0");
        assertTrue(
                received.stream()
                        .allMatch(
                                r ->
                                        r.getHeader().getMemberId() == cluster.memberId(member)
                                                && r.getHeader().getClusterId()
                                                        == cluster.clusterId()
                                                && r.getHeader().getRaftTerm() > 0));
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void keepAliveOnce(Role role, EtcdCluster cluster) throws Exception {
        Lease leases = cluster.jetcd(cluster.member(role)).getLeaseClient();
        long id = get(leases.grant(45)).getID();
        var renewed = get(leases.keepAliveOnce(id));
        assertEquals(id, renewed.getID());
        assertEquals(45, renewed.getTTL());
    }

    private static long seconds(long count) {
        return Duration.ofSeconds(count).toNanos();
    }

    /** Queues what a stream delivers. */
    private record Collect<T>(BlockingQueue<T> into) implements StreamObserver<T> {
        @Override
        public void onNext(T value) {
            into.add(value);
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {}
    }
}
