package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.DowngradeRequest;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each refusal reaches a client as etcd sends it: the gRPC code and etcd's exact message. Writes
 * are sent to a follower, so the refusal also survives forwarding to the leader. The cluster runs
 * with {@link EtcdCluster#LIMITS} (64 KiB requests, 8 operations per transaction).
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApiErrorsTest {

    @ParameterizedTest
    @EnumSource(Role.class)
    void emptyKeysAreNotProvided(Role role, EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv = kv(cluster, role);
        String message = "etcdserver: key is not provided";
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                message,
                () -> kv.range(RangeRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                message,
                () -> kv.put(PutRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                message,
                () -> kv.deleteRange(DeleteRangeRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                message,
                () ->
                        kv.txn(
                                TxnRequest.newBuilder()
                                        .addCompare(Compare.getDefaultInstance())
                                        .build()));
    }

    @Test
    void putRulesAndMissingKeys(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv = kv(cluster, Role.FOLLOWER);
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: value is provided",
                () -> kv.put(put("errors/v", "x").setIgnoreValue(true).build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: lease is provided",
                () -> kv.put(put("errors/l", "x").setIgnoreLease(true).setLease(7).build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: key not found",
                () -> kv.put(put("errors/missing", "").setIgnoreValue(true).build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: key not found",
                () ->
                        kv.txn(
                                TxnRequest.newBuilder()
                                        .addSuccess(RequestOp.getDefaultInstance())
                                        .build()));
    }

    @Test
    void transactionLimits(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv = kv(cluster, Role.FOLLOWER);
        TxnRequest.Builder tooMany = TxnRequest.newBuilder();
        for (int i = 0; i <= EtcdCluster.LIMITS.maxTxnOps(); i++) {
            tooMany.addSuccess(RequestOp.newBuilder().setRequestPut(put("errors/ops/" + i, "v")));
        }
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: too many operations in txn request",
                () -> kv.txn(tooMany.build()));

        TxnRequest duplicate =
                TxnRequest.newBuilder()
                        .addSuccess(RequestOp.newBuilder().setRequestPut(put("errors/dup", "1")))
                        .addSuccess(RequestOp.newBuilder().setRequestPut(put("errors/dup", "2")))
                        .build();
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: duplicate key given in txn request",
                () -> kv.txn(duplicate));
        assertEquals(
                0,
                kv.range(RangeRequest.newBuilder().setKey(bytes("errors/dup")).build()).getCount(),
                "a refused transaction wrote nothing");
    }

    @Test
    void requestsOverTheSizeLimitAreTooLarge(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv = kv(cluster, Role.FOLLOWER);
        ByteString big = ByteString.copyFrom(new byte[EtcdCluster.LIMITS.maxRequestBytes() + 1]);
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: request is too large",
                () ->
                        kv.put(
                                PutRequest.newBuilder()
                                        .setKey(bytes("errors/big"))
                                        .setValue(big)
                                        .build()));
        assertEquals(
                0,
                kv.range(RangeRequest.newBuilder().setKey(bytes("errors/big")).build()).getCount());
    }

    @Test
    void compactedAndFutureRevisions(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv = kv(cluster, Role.FOLLOWER);
        long first = kv.put(put("errors/rev", "1").build()).getHeader().getRevision();
        long second = kv.put(put("errors/rev", "2").build()).getHeader().getRevision();

        var compacted =
                kv.compact(
                        CompactionRequest.newBuilder()
                                .setRevision(second)
                                .setPhysical(true)
                                .build());
        assertEquals(second, compacted.getHeader().getRevision());

        String gone = "etcdserver: mvcc: required revision has been compacted";
        assertStatus(
                Status.Code.OUT_OF_RANGE,
                gone,
                () ->
                        kv.range(
                                RangeRequest.newBuilder()
                                        .setKey(bytes("errors/rev"))
                                        .setRevision(first)
                                        .build()));
        assertStatus(
                Status.Code.OUT_OF_RANGE,
                gone,
                () -> kv.compact(CompactionRequest.newBuilder().setRevision(second).build()));
        assertStatus(
                Status.Code.OUT_OF_RANGE,
                gone,
                () -> kv.compact(CompactionRequest.getDefaultInstance()));
        assertEquals(
                "2",
                kv.range(
                                RangeRequest.newBuilder()
                                        .setKey(bytes("errors/rev"))
                                        .setRevision(second)
                                        .build())
                        .getKvs(0)
                        .getValue()
                        .toStringUtf8(),
                "the compaction revision itself stays readable");

        String future = "etcdserver: mvcc: required revision is a future revision";
        assertStatus(
                Status.Code.OUT_OF_RANGE,
                future,
                () ->
                        kv.range(
                                RangeRequest.newBuilder()
                                        .setKey(bytes("errors/rev"))
                                        .setRevision(second + 1000)
                                        .build()));
        assertStatus(
                Status.Code.OUT_OF_RANGE,
                future,
                () ->
                        kv.compact(
                                CompactionRequest.newBuilder().setRevision(second + 1000).build()));
    }

    @Test
    void leaseRefusals(EtcdCluster cluster) {
        LeaseGrpc.LeaseBlockingStub leases =
                LeaseGrpc.newBlockingStub(cluster.channel(cluster.member(Role.FOLLOWER)))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
        String notFound = "etcdserver: requested lease not found";
        assertStatus(
                Status.Code.NOT_FOUND,
                notFound,
                () -> leases.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(0xabc_def).build()));
        assertStatus(
                Status.Code.NOT_FOUND,
                notFound,
                () -> leases.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(-3).build()));
        assertStatus(
                Status.Code.NOT_FOUND,
                notFound,
                () ->
                        kv(cluster, Role.FOLLOWER)
                                .put(put("errors/leased", "v").setLease(0xabc_def).build()));

        LeaseGrantRequest chosen =
                LeaseGrantRequest.newBuilder().setID(0xe7c_d000L).setTTL(60).build();
        leases.leaseGrant(chosen);
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: lease already exists",
                () -> leases.leaseGrant(chosen));
        assertStatus(
                Status.Code.OUT_OF_RANGE,
                "etcdserver: too large lease TTL",
                () ->
                        leases.leaseGrant(
                                LeaseGrantRequest.newBuilder().setTTL(9_000_000_001L).build()));
    }

    @Test
    void callsNotServedAreUnimplemented(EtcdCluster cluster) throws Exception {
        int member = cluster.member(Role.LEADER);
        // Capstan has one version, so nothing to downgrade to.
        StatusRuntimeException downgrade =
                assertThrows(
                        StatusRuntimeException.class,
                        () ->
                                MaintenanceGrpc.newBlockingStub(cluster.channel(member))
                                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                                        .downgrade(DowngradeRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, downgrade.getStatus().getCode());
    }

    private static KVGrpc.KVBlockingStub kv(EtcdCluster cluster, Role role) {
        return KVGrpc.newBlockingStub(cluster.channel(cluster.member(role)))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static PutRequest.Builder put(String key, String value) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(ByteString.copyFromUtf8(value));
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFromUtf8(text);
    }

    static void assertStatus(Status.Code code, String message, Executable call) {
        StatusRuntimeException failure = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, failure.getStatus().getCode(), failure.getStatus().toString());
        assertEquals(message, failure.getStatus().getDescription());
    }
}
