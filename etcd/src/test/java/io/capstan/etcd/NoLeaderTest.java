package io.capstan.etcd;

import static io.capstan.etcd.ApiErrorsTest.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.StatusResponse;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One member of three running: it can never elect a leader. Writes and linearizable reads fail as
 * etcd fails them without a leader; serializable reads and Status still answer from local state.
 */
@ExtendWith(EtcdClusterExtension.class)
@EtcdClusterExtension.Shape(started = 1, requestTimeoutMillis = 1000)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NoLeaderTest {

    private static final ByteString KEY = ByteString.copyFromUtf8("alone");

    @Test
    void writesAndLinearizableReadsHaveNoLeader(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv =
                KVGrpc.newBlockingStub(cluster.channel(0)).withDeadlineAfter(30, TimeUnit.SECONDS);
        assertStatus(
                Status.Code.UNAVAILABLE,
                "etcdserver: no leader",
                () -> kv.put(PutRequest.newBuilder().setKey(KEY).setValue(KEY).build()));
        assertStatus(
                Status.Code.UNAVAILABLE,
                "etcdserver: no leader",
                () -> kv.range(RangeRequest.newBuilder().setKey(KEY).build()));

        RangeResponse local =
                kv.range(RangeRequest.newBuilder().setKey(KEY).setSerializable(true).build());
        assertEquals(0, local.getCount());
        assertEquals(cluster.memberId(0), local.getHeader().getMemberId());
    }

    @Test
    void statusReportsTheMissingLeader(EtcdCluster cluster) {
        StatusResponse status =
                MaintenanceGrpc.newBlockingStub(cluster.channel(0))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .status(StatusRequest.getDefaultInstance());
        assertEquals(0, status.getLeader());
        assertEquals(List.of("etcdserver: no leader"), status.getErrorsList());
        assertEquals(cluster.memberId(0), status.getHeader().getMemberId());
    }

    @Test
    void gatewayAnswersServiceUnavailable(EtcdCluster cluster) throws Exception {
        GatewayTest.Reply reply =
                GatewayTest.post(
                        cluster.webAddress(0),
                        "/v3/kv/put",
                        "{\"key\":\"YWxvbmU=\",\"value\":\"eA==\"}");
        assertEquals(503, reply.status());
        JsonNode body = reply.json();
        assertEquals(14, body.get("code").asInt());
        assertEquals("etcdserver: no leader", body.get("error").asText());
        assertEquals("etcdserver: no leader", body.get("message").asText());
    }
}
