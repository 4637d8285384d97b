package io.capstan.etcd;

import static io.capstan.etcd.ApiErrorsTest.assertStatus;
import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static io.capstan.etcd.KvApiTest.text;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.api.lock.LockGrpc;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.LockResponse;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * etcd's Lock service through jetcd's lock client (which calls the server-side service), against
 * the leader and a follower: exclusivity (also among clients contending through every member) and
 * handover on Unlock, handover when the holder's lease expires (never before its TTL), etcd's error
 * for a lease that does not exist, and waiters that give up (deadline, closed client) leaving no
 * key. The keys under a lock's name are read back with jetcd's KV client, so the queue the service
 * keeps is checked as clients see it.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LockApiTest {

    /** The test cluster's shortest lease (see LeaseApiTest). */
    private static final long MIN_TTL = 2;

    @ParameterizedTest
    @EnumSource(Role.class)
    void aSecondLockWaitsUntilUnlockThenGetsItPromptly(Role role, EtcdCluster cluster)
            throws Exception {
        Client client = cluster.jetcd(cluster.member(role));
        Lock locks = client.getLockClient();
        String name = "lock/exclusive/" + role;
        long a = grant(client, 60);
        long b = grant(client, 60);

        io.etcd.jetcd.lock.LockResponse first = get(locks.lock(bytes(name), a));
        assertEquals(name + "/" + Long.toHexString(a), text(first.getKey()));
        CompletableFuture<io.etcd.jetcd.lock.LockResponse> second = locks.lock(bytes(name), b);
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).size() == 2);
        assertThrows(
                TimeoutException.class,
                () -> second.get(300, TimeUnit.MILLISECONDS),
                "the second caller waits while the first holds the lock");

        long unlocking = System.nanoTime();
        long unlockRevision = get(locks.unlock(first.getKey())).getHeader().getRevision();
        io.etcd.jetcd.lock.LockResponse next = get(second);
        long handoverMillis = (System.nanoTime() - unlocking) / 1_000_000;

        assertEquals(name + "/" + Long.toHexString(b), text(next.getKey()));
        assertTrue(
                next.getHeader().getRevision() >= unlockRevision,
                next.getHeader().getRevision() + " < " + unlockRevision);
        // The unlock hands the lock over, not the 60 s lease running out; how fast is for
        // benchmarks.
        assertTrue(handoverMillis < 10_000, "handover took " + handoverMillis + " ms");
        assertEquals(List.of(name + "/" + Long.toHexString(b)), keys(client, name));
        get(locks.unlock(next.getKey()));
        assertEquals(List.of(), keys(client, name));
    }

    @Test
    void contendingClientsHoldTheLockOneAtATime(EtcdCluster cluster) throws Exception {
        int clients = 6;
        int rounds = 3;
        String name = "lock/contended";
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                // Spread over every member; each client increments a counter with a read and a
                // write.
                Client client = cluster.jetcd(c % cluster.running());
                done.add(
                        threads.submit(
                                () -> {
                                    long lease = grant(client, 60);
                                    for (int r = 0; r < rounds; r++) {
                                        ByteSequence key =
                                                get(client.getLockClient().lock(bytes(name), lease))
                                                        .getKey();
                                        mostInside.accumulateAndGet(
                                                inside.incrementAndGet(), Math::max);
                                        List<KeyValue> counter =
                                                get(client.getKVClient().get(bytes("lock/counter")))
                                                        .getKvs();
                                        int value =
                                                counter.isEmpty()
                                                        ? 0
                                                        : Integer.parseInt(
                                                                text(counter.get(0).getValue()));
                                        get(
                                                client.getKVClient()
                                                        .put(
                                                                bytes("lock/counter"),
                                                                bytes(
                                                                        Integer.toString(
                                                                                value + 1))));
                                        inside.decrementAndGet();
                                        get(client.getLockClient().unlock(key));
                                    }
                                    return null;
                                }));
            }
            for (Future<?> client : done) {
                client.get(90, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(1, mostInside.get(), "one holder at a time");
        Client client = cluster.jetcd(0);
        assertEquals(
                Integer.toString(clients * rounds),
                text(
                        get(client.getKVClient().get(bytes("lock/counter")))
                                .getKvs()
                                .get(0)
                                .getValue()),
                "no increment lost");
        assertEquals(List.of(), keys(client, name));
    }

    @Test
    void theHoldersLeaseExpiringHandsTheLockOverAfterItsTtlAndNotBefore(EtcdCluster cluster)
            throws Exception {
        Client client = cluster.jetcd(cluster.follower());
        Lock locks = client.getLockClient();
        String name = "lock/expiry";
        long waiter = grant(client, 60);
        long beforeGrant = System.nanoTime();
        long holder = grant(client, MIN_TTL);
        long granted = System.nanoTime();

        get(locks.lock(bytes(name), holder));
        CompletableFuture<io.etcd.jetcd.lock.LockResponse> waiting =
                locks.lock(bytes(name), waiter);
        io.etcd.jetcd.lock.LockResponse got = waiting.get(30, TimeUnit.SECONDS);
        long acquired = System.nanoTime();

        assertEquals(name + "/" + Long.toHexString(waiter), text(got.getKey()));
        long sinceBeforeGrant = (acquired - beforeGrant) / 1_000_000;
        long sinceGranted = (acquired - granted) / 1_000_000;
        assertTrue(
                sinceBeforeGrant >= MIN_TTL * 1000,
                "got the lock " + sinceBeforeGrant + " ms after the grant");
        assertTrue(
                sinceGranted <= MIN_TTL * 1000 + 1200,
                "got the lock " + sinceGranted + " ms after the grant");
        assertEquals(List.of(name + "/" + Long.toHexString(waiter)), keys(client, name));
        get(locks.unlock(got.getKey()));
    }

    @Test
    void aLeaseThatDoesNotExistIsNotFoundAsEtcdAnswersIt(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        Client client = cluster.jetcd(member);
        LockGrpc.LockBlockingStub stub =
                LockGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
        String name = "lock/no-lease";
        long revoked = grant(client, 60);
        get(client.getLeaseClient().revoke(revoked));

        // etcd's lock server gets the refusal from its own client, and gRPC answers it as UNKNOWN.
        for (long lease : new long[] {0x7e57_dead_beefL, revoked, -5}) {
            assertStatus(
                    Status.Code.UNKNOWN,
                    "etcdserver: requested lease not found",
                    () -> stub.lock(request(name, lease)));
        }
        ExecutionException failure =
                assertThrows(
                        ExecutionException.class,
                        () -> get(client.getLockClient().lock(bytes(name), revoked)));
        Status refused =
                assertInstanceOf(StatusRuntimeException.class, failure.getCause()).getStatus();
        assertEquals(Status.Code.UNKNOWN, refused.getCode());
        assertEquals("etcdserver: requested lease not found", refused.getDescription());
        assertEquals(List.of(), keys(client, name));
    }

    @Test
    void waitersThatGiveUpLeaveNoKey(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        Client client = cluster.jetcd(member);
        Lock locks = client.getLockClient();
        String name = "lock/give-up";
        long holder = grant(client, 60);
        String held = text(get(locks.lock(bytes(name), holder)).getKey());

        // A deadline passes while the call waits.
        Failure deadline = new Failure();
        LockGrpc.newStub(cluster.channel(member))
                .withDeadlineAfter(2, TimeUnit.SECONDS)
                .lock(request(name, grant(client, 60)), deadline);
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).size() == 2);
        assertEquals(
                Status.Code.DEADLINE_EXCEEDED,
                deadline.error.get(30, TimeUnit.SECONDS).getStatus().getCode());
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).equals(List.of(held)));

        // A client goes away while its call waits.
        long gone = grant(client, 60);
        try (Client other = Client.builder().endpoints(cluster.endpoint(member)).build()) {
            CompletableFuture<io.etcd.jetcd.lock.LockResponse> waiting =
                    other.getLockClient().lock(bytes(name), gone);
            await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).size() == 2);
            assertFalse(waiting.isDone());
        }
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, name).equals(List.of(held)));
        get(locks.unlock(bytes(held)));
    }

    @Test
    void lockingAgainWithTheSameLeaseReusesTheKey(EtcdCluster cluster) throws Exception {
        Client client = cluster.jetcd(cluster.awaitLeader());
        Lock locks = client.getLockClient();
        long lease = grant(client, 60);
        io.etcd.jetcd.lock.LockResponse first = get(locks.lock(bytes("lock/again"), lease));
        io.etcd.jetcd.lock.LockResponse again = get(locks.lock(bytes("lock/again"), lease));

        assertEquals(text(first.getKey()), text(again.getKey()));
        assertEquals(
                first.getHeader().getRevision(),
                again.getHeader().getRevision(),
                "nothing was written");
        get(locks.unlock(again.getKey()));
    }

    @Test
    void lockWithoutALeaseGetsOneOfEtcdsSessionTtl(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        Client client = cluster.jetcd(member);
        LockResponse response =
                LockGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .lock(
                                LockRequest.newBuilder()
                                        .setName(ByteString.copyFromUtf8("lock/no-lease-given"))
                                        .build());

        String key = response.getKey().toStringUtf8();
        assertTrue(key.startsWith("lock/no-lease-given/"), key);
        long lease = Long.parseLong(key.substring("lock/no-lease-given/".length()), 16);
        var ttl = get(client.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT));
        assertEquals(KeyQueue.DEFAULT_TTL_SECONDS, ttl.getGrantedTTL());
        get(client.getLeaseClient().revoke(lease));
        assertEquals(List.of(), keys(client, "lock/no-lease-given"));
    }

    static long grant(Client client, long ttl) throws Exception {
        return get(client.getLeaseClient().grant(ttl)).getID();
    }

    /** The keys under {@code name/}, oldest first. */
    static List<String> keys(Client client, String name) throws Exception {
        GetOption prefix =
                GetOption.builder()
                        .isPrefix(true)
                        .withKeysOnly(true)
                        .withSortField(GetOption.SortTarget.CREATE)
                        .withSortOrder(GetOption.SortOrder.ASCEND)
                        .build();
        return get(client.getKVClient().get(bytes(name + "/"), prefix)).getKvs().stream()
                .map(kv -> text(kv.getKey()))
                .toList();
    }

    private static LockRequest request(String name, long lease) {
        return LockRequest.newBuilder()
                .setName(ByteString.copyFromUtf8(name))
                .setLease(lease)
                .build();
    }

    /** The failure a call ends with. */
    private static final class Failure implements StreamObserver<LockResponse> {
        final CompletableFuture<StatusRuntimeException> error = new CompletableFuture<>();

        @Override
        public void onNext(LockResponse value) {
            error.completeExceptionally(new AssertionError("the call got the lock: " + value));
        }

        @Override
        public void onError(Throwable t) {
            error.complete((StatusRuntimeException) t);
        }

        @Override
        public void onCompleted() {}
    }
}
