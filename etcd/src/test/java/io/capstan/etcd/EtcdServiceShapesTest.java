package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.etcd.api.AuthGrpc;
import io.capstan.etcd.api.ClusterGrpc;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.election.ElectionGrpc;
import io.capstan.etcd.api.lock.LockGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServiceDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The generated stubs expose every etcd v3 RPC under the path etcd clients call ({@code
 * /package.Service/Method}) with etcd's streaming shape. A renamed service, method or package, or a
 * changed stream, makes real clients fail with UNIMPLEMENTED, so the whole table is pinned here.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EtcdServiceShapesTest {

    private static final MethodType UNARY = MethodType.UNARY;
    private static final MethodType BIDI = MethodType.BIDI_STREAMING;
    private static final MethodType SERVER_STREAM = MethodType.SERVER_STREAMING;

    @Test
    void everyServiceServesEtcdsMethodsWithEtcdsStreamingShape() {
        Map<String, MethodType> expected = new TreeMap<>();
        expect(expected, "etcdserverpb.KV", UNARY, "Range", "Put", "DeleteRange", "Txn", "Compact");
        expect(expected, "etcdserverpb.Watch", BIDI, "Watch");
        expect(
                expected,
                "etcdserverpb.Lease",
                UNARY,
                "LeaseGrant",
                "LeaseRevoke",
                "LeaseTimeToLive",
                "LeaseLeases");
        expect(expected, "etcdserverpb.Lease", BIDI, "LeaseKeepAlive");
        expect(
                expected,
                "etcdserverpb.Cluster",
                UNARY,
                "MemberAdd",
                "MemberRemove",
                "MemberUpdate",
                "MemberList",
                "MemberPromote");
        expect(
                expected,
                "etcdserverpb.Maintenance",
                UNARY,
                "Alarm",
                "Status",
                "Defragment",
                "Hash",
                "HashKV",
                "MoveLeader",
                "Downgrade");
        expect(expected, "etcdserverpb.Maintenance", SERVER_STREAM, "Snapshot");
        expect(
                expected,
                "etcdserverpb.Auth",
                UNARY,
                "AuthEnable",
                "AuthDisable",
                "AuthStatus",
                "Authenticate",
                "UserAdd",
                "UserGet",
                "UserList",
                "UserDelete",
                "UserChangePassword",
                "UserGrantRole",
                "UserRevokeRole",
                "RoleAdd",
                "RoleGet",
                "RoleList",
                "RoleDelete",
                "RoleGrantPermission",
                "RoleRevokePermission");
        expect(expected, "v3lockpb.Lock", UNARY, "Lock", "Unlock");
        expect(
                expected,
                "v3electionpb.Election",
                UNARY,
                "Campaign",
                "Proclaim",
                "Leader",
                "Resign");
        expect(expected, "v3electionpb.Election", SERVER_STREAM, "Observe");

        Map<String, MethodType> generated = new TreeMap<>();
        Stream.of(
                        KVGrpc.getServiceDescriptor(),
                        WatchGrpc.getServiceDescriptor(),
                        LeaseGrpc.getServiceDescriptor(),
                        ClusterGrpc.getServiceDescriptor(),
                        MaintenanceGrpc.getServiceDescriptor(),
                        AuthGrpc.getServiceDescriptor(),
                        LockGrpc.getServiceDescriptor(),
                        ElectionGrpc.getServiceDescriptor())
                .map(ServiceDescriptor::getMethods)
                .flatMap(Collection::stream)
                .forEach(method -> generated.put(method.getFullMethodName(), method.getType()));

        List<String> mismatches = new ArrayList<>();
        for (String method : union(expected.keySet(), generated.keySet())) {
            if (expected.get(method) != generated.get(method)) {
                mismatches.add(
                        method
                                + ": etcd "
                                + expected.get(method)
                                + ", generated "
                                + generated.get(method));
            }
        }
        assertEquals(List.of(), mismatches);
    }

    @Test
    void methodsCarryEtcdsRequestAndResponseMessages() {
        assertMessages(
                KVGrpc.getRangeMethod(), "etcdserverpb.RangeRequest", "etcdserverpb.RangeResponse");
        assertMessages(
                KVGrpc.getCompactMethod(),
                "etcdserverpb.CompactionRequest",
                "etcdserverpb.CompactionResponse");
        assertMessages(
                WatchGrpc.getWatchMethod(),
                "etcdserverpb.WatchRequest",
                "etcdserverpb.WatchResponse");
        assertMessages(
                AuthGrpc.getUserAddMethod(),
                "etcdserverpb.AuthUserAddRequest",
                "etcdserverpb.AuthUserAddResponse");
        assertMessages(
                ElectionGrpc.getObserveMethod(),
                "v3electionpb.LeaderRequest",
                "v3electionpb.LeaderResponse");
        assertMessages(LockGrpc.getLockMethod(), "v3lockpb.LockRequest", "v3lockpb.LockResponse");
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    private static void expect(
            Map<String, MethodType> table, String service, MethodType type, String... methods) {
        for (String method : methods) {
            table.put(MethodDescriptor.generateFullMethodName(service, method), type);
        }
    }

    private static void assertMessages(
            MethodDescriptor<?, ?> method, String request, String response) {
        var schema = (io.grpc.protobuf.ProtoMethodDescriptorSupplier) method.getSchemaDescriptor();
        assertEquals(
                request,
                schema.getMethodDescriptor().getInputType().getFullName(),
                method.getFullMethodName());
        assertEquals(
                response,
                schema.getMethodDescriptor().getOutputType().getFullName(),
                method.getFullMethodName());
    }
}
