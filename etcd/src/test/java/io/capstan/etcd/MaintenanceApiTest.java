package io.capstan.etcd;

import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.GatewayTest.Reply;
import io.capstan.etcd.api.HashKVRequest;
import io.capstan.etcd.api.HashKVResponse;
import io.capstan.etcd.api.HashRequest;
import io.capstan.etcd.api.HashResponse;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.MoveLeaderRequest;
import io.capstan.etcd.api.SnapshotRequest;
import io.capstan.etcd.api.SnapshotResponse;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.SnapshotExport;
import io.capstan.raft.StateDigest;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Maintenance;
import io.etcd.jetcd.maintenance.AlarmMember;
import io.etcd.jetcd.maintenance.AlarmResponse;
import io.etcd.jetcd.maintenance.AlarmType;
import io.etcd.jetcd.maintenance.DefragmentResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * etcd's Maintenance service against a 3-member cluster, through jetcd (the oracle client) and,
 * where jetcd hides a field or the flow of a stream, a plain gRPC stub of etcd's protos or the JSON
 * gateway. Tests run one at a time and keep to keys of their own; one of them moves the leader and
 * one compacts, so the others ask for the leader and use revisions of their own writes.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MaintenanceApiTest {

    private static final String COMPACTED =
            "etcdserver: mvcc: required revision has been compacted";
    private static final String NO_SPACE = "mvcc: database space exceeded";
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(Role.class)
    void statusDescribesTheMember(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        int leader = cluster.awaitLeader();
        long revision =
                get(cluster.jetcd(member).getKVClient().put(bytes("status/" + role), bytes("v")))
                        .getHeader()
                        .getRevision();

        StatusResponse status =
                get(
                        cluster.jetcd(member)
                                .getMaintenanceClient()
                                .statusMember(cluster.endpoint(member)));

        assertEquals(StatusOperation.ETCD_VERSION, status.getVersion());
        assertEquals(cluster.memberId(leader), status.getLeader());
        assertEquals(cluster.memberId(member), status.getHeader().getMemberId());
        assertEquals(cluster.clusterId(), status.getHeader().getClusterId());
        if (role == Role.LEADER) {
            assertTrue(
                    status.getHeader().getRevision() >= revision,
                    "the leader applied the write it acknowledged");
        }
        NodeStatus raft = cluster.node(member).status();
        assertTrue(status.getRaftTerm() >= 1 && status.getRaftTerm() <= raft.term());
        assertTrue(status.getRaftIndex() >= 1 && status.getRaftIndex() <= raft.commitIndex());
        assertTrue(status.getRaftAppliedIndex() <= status.getRaftIndex());
        assertTrue(status.getDbSize() > 0, "the Raft log takes room on disk");
        assertEquals(status.getDbSize(), status.getDbSizeInUse());
        assertFalse(status.isLearner());
        assertEquals(List.of(), status.getErrorList());
    }

    @Test
    void hashKvIsEqualOnEveryMemberAtOneRevisionAndAWriteChangesIt(EtcdCluster cluster)
            throws Exception {
        KV kv = cluster.jetcd(cluster.awaitLeader()).getKVClient();
        get(kv.put(bytes("hashkv/a"), bytes("1")));
        long first = get(kv.put(bytes("hashkv/b"), bytes("2"))).getHeader().getRevision();
        List<Integer> atFirst = hashesOnEveryMember(cluster, first);
        assertEquals(
                1, new HashSet<>(atFirst).size(), "one hash at revision " + first + ": " + atFirst);

        long second = get(kv.put(bytes("hashkv/a"), bytes("3"))).getHeader().getRevision();
        List<Integer> atSecond = hashesOnEveryMember(cluster, second);
        assertEquals(
                1,
                new HashSet<>(atSecond).size(),
                "one hash at revision " + second + ": " + atSecond);
        assertNotEquals(atFirst.get(0), atSecond.get(0), "a write changes the hash");
        assertEquals(
                atFirst,
                hashesOnEveryMember(cluster, first),
                "history up to a revision never changes");

        int member = cluster.follower();
        HashKVResponse raw =
                maintenance(cluster, member)
                        .hashKV(HashKVRequest.newBuilder().setRevision(first).build());
        assertEquals(first, raw.getHashRevision());
        assertEquals((int) atFirst.get(0), raw.getHash());
        assertTrue(
                raw.getHeader().getRevision() >= second,
                "the header has the member's latest revision");
        assertEquals(cluster.memberId(member), raw.getHeader().getMemberId());
        HashKVResponse latest =
                maintenance(cluster, member).hashKV(HashKVRequest.getDefaultInstance());
        assertEquals(
                latest.getHeader().getRevision(),
                latest.getHashRevision(),
                "revision 0 is the latest");
    }

    /**
     * Each member's hash at {@code revision}, once it applied it (before, etcd refuses it as a
     * future revision).
     */
    private static List<Integer> hashesOnEveryMember(EtcdCluster cluster, long revision) {
        List<Integer> hashes = new ArrayList<>();
        for (int i = 0; i < cluster.running(); i++) {
            Maintenance client = cluster.jetcd(i).getMaintenanceClient();
            String endpoint = cluster.endpoint(i);
            hashes.add(
                    await().atMost(EtcdCluster.WAIT)
                            .ignoreExceptions()
                            .until(() -> get(client.hashKV(endpoint, revision)), response -> true)
                            .getHash());
        }
        return hashes;
    }

    @Test
    void hashKvRefusesCompactedAndFutureRevisionsWithEtcdsErrors(EtcdCluster cluster)
            throws Exception {
        int leader = cluster.awaitLeader();
        KV kv = cluster.jetcd(leader).getKVClient();
        long old = get(kv.put(bytes("hashkv/compacted"), bytes("1"))).getHeader().getRevision();
        long compacted =
                get(kv.put(bytes("hashkv/compacted"), bytes("2"))).getHeader().getRevision();
        get(kv.compact(compacted));
        MaintenanceGrpc.MaintenanceBlockingStub stub = maintenance(cluster, leader);

        ApiErrorsTest.assertStatus(
                Status.Code.OUT_OF_RANGE,
                COMPACTED,
                () -> stub.hashKV(HashKVRequest.newBuilder().setRevision(old).build()));
        HashKVResponse atCompaction =
                stub.hashKV(HashKVRequest.newBuilder().setRevision(compacted).build());
        assertEquals(compacted, atCompaction.getCompactRevision());
        ApiErrorsTest.assertStatus(
                Status.Code.OUT_OF_RANGE,
                "etcdserver: mvcc: required revision is a future revision",
                () ->
                        stub.hashKV(
                                HashKVRequest.newBuilder()
                                        .setRevision(compacted + 1_000_000)
                                        .build()));
        ExecutionException viaJetcd =
                assertThrows(
                        ExecutionException.class,
                        () ->
                                get(
                                        cluster.jetcd(leader)
                                                .getMaintenanceClient()
                                                .hashKV(cluster.endpoint(leader), old)));
        assertTrue(
                viaJetcd.getCause().getMessage().contains("required revision has been compacted"),
                viaJetcd.getCause().toString());
    }

    @Test
    void hashCoversTheMembersWholeState(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        MaintenanceGrpc.MaintenanceBlockingStub stub = maintenance(cluster, leader);
        HashResponse before = stub.hash(HashRequest.getDefaultInstance());
        StateDigest digest = cluster.node(leader).stateDigest();
        assertEquals(HexFormat.fromHexDigits(digest.sha256(), 0, 8), before.getHash());
        assertEquals(digest.revision(), before.getHeader().getRevision());

        long written =
                get(cluster.jetcd(leader).getKVClient().put(bytes("hash/k"), bytes("v")))
                        .getHeader()
                        .getRevision();
        HashResponse after = stub.hash(HashRequest.getDefaultInstance());
        assertEquals(written, after.getHeader().getRevision());
        assertNotEquals(before.getHash(), after.getHash());
    }

    @Test
    void aRaisedNoSpaceAlarmIsListedEverywhereAndRefusesWritesThatAddDataUntilDisarmed(
            EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        long id = cluster.memberId(member);
        Maintenance client = cluster.jetcd(member).getMaintenanceClient();
        AlarmResponse none = get(client.listAlarms());
        assertEquals(List.of(), none.getAlarms());
        assertEquals(id, none.getHeader().getMemberId());
        assertEquals(
                List.of(),
                get(client.alarmDisarm(new AlarmMember(id, AlarmType.NOSPACE))).getAlarms(),
                "disarming an alarm that is not raised clears nothing");
        KV kv = cluster.jetcd(member).getKVClient();
        get(kv.put(bytes("alarm/kept"), bytes("v")));

        var activated =
                maintenance(cluster, member)
                        .alarm(
                                io.capstan.etcd.api.AlarmRequest.newBuilder()
                                        .setAction(
                                                io.capstan.etcd.api.AlarmRequest.AlarmAction
                                                        .ACTIVATE)
                                        .setMemberID(id)
                                        .setAlarm(io.capstan.etcd.api.AlarmType.NOSPACE)
                                        .build());
        assertEquals(1, activated.getAlarmsCount(), activated.toString());
        for (int i = 0; i < cluster.running(); i++) {
            List<AlarmMember> listed =
                    get(cluster.jetcd(i).getMaintenanceClient().listAlarms()).getAlarms();
            assertEquals(1, listed.size(), "member " + i + " lists " + listed);
            assertEquals(id, listed.get(0).getMemberId());
            assertEquals(AlarmType.NOSPACE, listed.get(0).getAlarmType());
        }
        for (int i = 0; i < cluster.running(); i++) {
            KV through = cluster.jetcd(i).getKVClient();
            ExecutionException put =
                    assertThrows(
                            ExecutionException.class,
                            () -> get(through.put(bytes("alarm/new"), bytes("v"))));
            assertTrue(put.getCause().getMessage().contains(NO_SPACE), put.getCause().toString());
        }
        ExecutionException grant =
                assertThrows(
                        ExecutionException.class,
                        () -> get(cluster.jetcd(member).getLeaseClient().grant(60)));
        assertTrue(grant.getCause().getMessage().contains(NO_SPACE), grant.getCause().toString());
        ApiErrorsTest.assertStatus(
                Status.Code.RESOURCE_EXHAUSTED,
                "etcdserver: " + NO_SPACE,
                () ->
                        io.capstan.etcd.api.KVGrpc.newBlockingStub(cluster.channel(member))
                                .txn(
                                        io.capstan.etcd.api.TxnRequest.newBuilder()
                                                .addFailure(
                                                        io.capstan.etcd.api.RequestOp.newBuilder()
                                                                .setRequestPut(
                                                                        io.capstan.etcd.api
                                                                                .PutRequest
                                                                                .newBuilder()
                                                                                .setKey(
                                                                                        com.google
                                                                                                .protobuf
                                                                                                .ByteString
                                                                                                .copyFromUtf8(
                                                                                                        "alarm/txn"))))
                                                .build()));
        assertEquals(
                429,
                GatewayTest.post(cluster.webAddress(member), "/v3/kv/put", "{\"key\":\"YQ==\"}")
                        .status());
        assertEquals(
                "v",
                KvApiTest.text(get(kv.get(bytes("alarm/kept"))).getKvs().get(0).getValue()),
                "reads go on");
        assertEquals(
                1, get(kv.delete(bytes("alarm/kept"))).getDeleted(), "deletes go on, to make room");

        List<AlarmMember> cleared =
                get(client.alarmDisarm(new AlarmMember(id, AlarmType.NOSPACE))).getAlarms();
        assertEquals(1, cleared.size(), cleared.toString());
        for (int i = 0; i < cluster.running(); i++) {
            assertEquals(
                    List.of(),
                    get(cluster.jetcd(i).getMaintenanceClient().listAlarms()).getAlarms());
        }
        get(kv.put(bytes("alarm/new"), bytes("v")));

        DefragmentResponse defragmented = get(client.defragmentMember(cluster.endpoint(member)));
        assertEquals(id, defragmented.getHeader().getMemberId());
        assertEquals(cluster.clusterId(), defragmented.getHeader().getClusterId());
    }

    @Test
    void moveLeaderHandsLeadershipToTheNamedMemberOnlyFromTheLeader(EtcdCluster cluster)
            throws Exception {
        int leader = cluster.awaitLeader();
        int target = cluster.follower();
        get(cluster.jetcd(leader).getMaintenanceClient().moveLeader(cluster.memberId(target)));
        assertEquals(
                target, cluster.awaitLeader(), "the named member leads, as every member sees it");
        assertEquals(NodeStatus.Role.LEADER, cluster.node(target).status().role());

        ApiErrorsTest.assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: not leader",
                () ->
                        maintenance(cluster, leader)
                                .moveLeader(
                                        MoveLeaderRequest.newBuilder()
                                                .setTargetID(cluster.memberId(leader))
                                                .build()));
        ApiErrorsTest.assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: bad leader transferee",
                () ->
                        maintenance(cluster, target)
                                .moveLeader(
                                        MoveLeaderRequest.newBuilder().setTargetID(12345).build()));
        maintenance(cluster, target)
                .moveLeader(
                        MoveLeaderRequest.newBuilder()
                                .setTargetID(cluster.memberId(target))
                                .build());
        assertEquals(
                target,
                cluster.awaitLeader(),
                "moving the leadership to the leader leaves it there");

        Reply notLeader =
                GatewayTest.post(
                        cluster.webAddress(leader),
                        "/v3/maintenance/transfer-leadership",
                        "{\"targetID\":\""
                                + Long.toUnsignedString(cluster.memberId(target))
                                + "\"}");
        assertEquals(400, notLeader.status(), notLeader.body());
        assertEquals("etcdserver: not leader", notLeader.json().get("message").asText());
    }

    @Test
    void snapshotStreamsTheStateThenItsSha256AsEtcdDoes(EtcdCluster cluster) throws Exception {
        int member = cluster.awaitLeader();
        KV kv = cluster.jetcd(member).getKVClient();
        long written = 0;
        for (int i = 0; i < 20; i++) {
            written =
                    get(kv.put(bytes("snapshot/k" + i), bytes("value " + i)))
                            .getHeader()
                            .getRevision();
        }
        long least = written;
        assertSnapshotHoldsTheMembersState(
                cluster,
                member,
                () -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    long size = get(cluster.jetcd(member).getMaintenanceClient().snapshot(out));
                    byte[] received = out.toByteArray();
                    assertEquals(size, received.length);
                    byte[] data = assertEndsWithItsSha256(received);
                    assertEquals(
                            0,
                            data.length % SnapshotExport.BLOCK,
                            "etcd's clients want whole 512-byte blocks");
                    assertTrue(
                            SnapshotExport.digestOf(new ByteArrayInputStream(data)).revision()
                                    >= least);
                    return data;
                });
    }

    @Test
    void aLargeSnapshotIsSentAsTheClientReadsIt(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        KV kv = cluster.jetcd(cluster.awaitLeader()).getKVClient();
        String value = "x".repeat(30 * 1024);
        long written = 0;
        for (int i = 0; i < 48; i++) {
            written =
                    get(kv.put(bytes("snapshot/large/" + i), bytes(value)))
                            .getHeader()
                            .getRevision();
        }
        long applied = written;
        await().atMost(EtcdCluster.WAIT)
                .until(() -> cluster.node(member).stateDigest().revision() >= applied);

        // Takes one message at a time: the server must wait for the client rather than buffer the
        // state.
        BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        ClientCall<SnapshotRequest, SnapshotResponse> call =
                cluster.channel(member)
                        .newCall(MaintenanceGrpc.getSnapshotMethod(), CallOptions.DEFAULT);
        call.start(
                new ClientCall.Listener<>() {
                    @Override
                    public void onMessage(SnapshotResponse message) {
                        received.add(message);
                    }

                    @Override
                    public void onClose(Status status, io.grpc.Metadata trailers) {
                        received.add(status);
                    }
                },
                new io.grpc.Metadata());
        call.sendMessage(SnapshotRequest.getDefaultInstance());
        call.halfClose();

        ByteArrayOutputStream all = new ByteArrayOutputStream();
        List<SnapshotResponse> chunks = new ArrayList<>();
        while (true) {
            call.request(1);
            Object next = received.poll(30, TimeUnit.SECONDS);
            assertNotNull(next, "the snapshot stream stalled after " + chunks.size() + " messages");
            if (next instanceof Status status) {
                assertTrue(status.isOk(), status.toString());
                break;
            }
            SnapshotResponse chunk = (SnapshotResponse) next;
            chunks.add(chunk);
            chunk.getBlob().writeTo(all);
        }
        assertTrue(chunks.size() > 40, chunks.size() + " messages");
        assertEquals(cluster.memberId(member), chunks.get(0).getHeader().getMemberId());
        assertTrue(
                chunks.get(0).getHeader().getRevision() >= written,
                "the first header names the snapshot's revision");
        long total = all.size() - 32;
        long sent = 0;
        for (SnapshotResponse chunk : chunks.subList(0, chunks.size() - 1)) {
            assertTrue(chunk.getBlob().size() <= SnapshotSender.CHUNK_BYTES);
            sent += chunk.getBlob().size();
            assertEquals(total - sent, chunk.getRemainingBytes());
        }
        byte[] data = assertEndsWithItsSha256(all.toByteArray());
        assertEquals(
                cluster.node(member).stateDigest(),
                SnapshotExport.digestOf(new ByteArrayInputStream(data)));
    }

    @Test
    void theGatewayServesEveryMaintenanceCall(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        InetSocketAddress web = cluster.webAddress(member);
        assertEquals(200, GatewayTest.post(web, "/v3/maintenance/alarm", "{}").status());
        assertEquals(200, GatewayTest.post(web, "/v3/maintenance/defragment", "").status());
        Reply hash = GatewayTest.post(web, "/v3/maintenance/hash", "{}");
        assertEquals(200, hash.status(), hash.body());
        assertTrue(hash.json().has("hash"), hash.body());
        Reply hashKv = GatewayTest.post(web, "/v3/maintenance/hashkv", "{\"revision\":\"0\"}");
        assertEquals(200, hashKv.status(), hashKv.body());
        assertEquals(
                hashKv.json().get("header").get("revision").asText(),
                hashKv.json().get("hash_revision").asText());

        assertSnapshotHoldsTheMembersState(
                cluster,
                member,
                () -> {
                    HttpRequest request =
                            HttpRequest.newBuilder(
                                            URI.create(
                                                    "http://127.0.0.1:"
                                                            + web.getPort()
                                                            + "/v3/maintenance/snapshot"))
                                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                                    .build();
                    HttpResponse<java.util.stream.Stream<String>> response =
                            HttpClient.newHttpClient()
                                    .send(request, HttpResponse.BodyHandlers.ofLines());
                    assertEquals(200, response.statusCode());
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    try (java.util.stream.Stream<String> lines = response.body()) {
                        for (String line : (Iterable<String>) lines::iterator) {
                            JsonNode result = JSON.readTree(line).get("result");
                            assertNotNull(result, line);
                            all.write(Base64.getDecoder().decode(result.get("blob").asText()));
                        }
                    }
                    return assertEndsWithItsSha256(all.toByteArray());
                });
    }

    private interface SnapshotFetch {
        byte[] data() throws Exception;
    }

    /**
     * The snapshot a member sends holds its state at one moment. A follower may still be applying
     * earlier tests' writes, so the comparison is made only when the member's state did not move
     * while the snapshot was taken (a few tries).
     */
    private static void assertSnapshotHoldsTheMembersState(
            EtcdCluster cluster, int member, SnapshotFetch fetch) throws Exception {
        for (int attempt = 0; attempt < 5; attempt++) {
            StateDigest before = cluster.node(member).stateDigest();
            byte[] data = fetch.data();
            StateDigest after = cluster.node(member).stateDigest();
            if (before.equals(after)) {
                assertEquals(after, SnapshotExport.digestOf(new ByteArrayInputStream(data)));
                return;
            }
        }
        throw new AssertionError(
                "member " + member + " kept applying while its snapshot was taken");
    }

    /** etcd's layout: the data, then the SHA-256 of the data; returns the data. */
    private static byte[] assertEndsWithItsSha256(byte[] received) throws Exception {
        assertTrue(received.length > 32, received.length + " bytes");
        byte[] data = Arrays.copyOf(received, received.length - 32);
        byte[] sum = Arrays.copyOfRange(received, received.length - 32, received.length);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), sum);
        return data;
    }

    private static MaintenanceGrpc.MaintenanceBlockingStub maintenance(
            EtcdCluster cluster, int member) {
        return MaintenanceGrpc.newBlockingStub(cluster.channel(member))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Test
    void membersHaveDistinctIdsInOneCluster(EtcdCluster cluster) throws Exception {
        cluster.awaitLeader();
        Set<Long> members = new HashSet<>();
        for (int i = 0; i < cluster.running(); i++) {
            StatusResponse status =
                    get(cluster.jetcd(i).getMaintenanceClient().statusMember(cluster.endpoint(i)));
            members.add(status.getHeader().getMemberId());
            assertEquals(cluster.clusterId(), status.getHeader().getClusterId());
            assertNotEquals(0, status.getHeader().getMemberId());
        }
        assertEquals(cluster.running(), members.size());
    }
}
