package io.capstan.etcd;

import static io.capstan.etcd.ApiErrorsTest.assertStatus;
import static io.capstan.etcd.KvApiTest.get;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.ClusterGrpc;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.MemberAddRequest;
import io.capstan.etcd.api.MemberListRequest;
import io.capstan.etcd.api.MemberPromoteRequest;
import io.capstan.etcd.api.MemberRemoveRequest;
import io.capstan.etcd.api.MemberUpdateRequest;
import io.capstan.etcd.api.RangeRequest;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Cluster;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.cluster.MemberAddResponse;
import io.etcd.jetcd.options.GetOption;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * etcd's Cluster service through jetcd and plain gRPC stubs, over a real 3-member cluster: the
 * member list as every member shows it, then etcd's add-then-start flow with a fourth member that
 * joins as a learner, is promoted to a voter and removed again, and each refusal by code and text.
 * The tests share one cluster and run in order, the membership changing from one to the next.
 */
@ExtendWith(EtcdClusterExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterApiTest {

    @Test
    @Order(1)
    void everyMemberListsTheSameThreeWithTheirUrls(EtcdCluster cluster) throws Exception {
        for (int i = 0; i < 3; i++) {
            int member = i;
            // Each member publishes its client URL once it has a leader; then all agree.
            await().atMost(EtcdCluster.WAIT)
                    .untilAsserted(
                            () -> {
                                List<Member> members =
                                        get(cluster.jetcd(member).getClusterClient().listMember())
                                                .getMembers();
                                assertEquals(3, members.size(), members.toString());
                                for (int m = 0; m < 3; m++) {
                                    Member listed = byName(members, "n" + m);
                                    assertEquals(cluster.memberId(m), listed.getId());
                                    assertEquals(
                                            List.of(URI.create(cluster.endpoint(m))),
                                            listed.getClientURIs());
                                    assertEquals(
                                            List.of(
                                                    URI.create(
                                                            "http://"
                                                                    + cluster.settings(m)
                                                                            .self()
                                                                            .address())),
                                            listed.getPeerURIs());
                                    assertFalse(listed.isLearner());
                                }
                            });
        }
        var linearizable =
                ClusterGrpc.newBlockingStub(cluster.channel(cluster.follower()))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .memberList(MemberListRequest.newBuilder().setLinearizable(true).build());
        assertEquals(3, linearizable.getMembersCount());
        assertEquals(cluster.clusterId(), linearizable.getHeader().getClusterId());
        assertEquals(
                0,
                linearizable.getHeader().getRevision(),
                "etcd's Cluster answers carry no revision");

        GatewayTest.Reply reply =
                GatewayTest.post(cluster.webAddress(0), "/v3/cluster/member/list", "{}");
        assertEquals(200, reply.status(), reply.body());
        JsonNode members = reply.json().get("members");
        assertEquals(3, members.size(), reply.body());
        assertEquals(
                Long.toUnsignedString(cluster.memberId(0)),
                byName(members, "n0").get("ID").asText());
    }

    @Test
    @Order(2)
    void addedLearnerJoinsCatchesUpAndIsPromoted(EtcdCluster cluster) throws Exception {
        Cluster api = cluster.jetcd(cluster.follower()).getClusterClient();
        int port = EtcdCluster.freePort();
        URI peerUrl = URI.create("http://127.0.0.1:" + port);

        MemberAddResponse added = get(api.addMember(List.of(peerUrl), true));
        long id = added.getMember().getId();
        assertNotEquals(0, id);
        assertEquals("", added.getMember().getName(), "not started yet, so no name, as in etcd");
        assertEquals(List.of(peerUrl), added.getMember().getPeerURIs());
        assertTrue(added.getMember().isLearner());
        assertEquals(4, added.getMembers().size(), added.getMembers().toString());

        ByteSequence key = ByteSequence.from("cluster/before-join", StandardCharsets.UTF_8);
        get(
                cluster.jetcd(0)
                        .getKVClient()
                        .put(key, ByteSequence.from("v", StandardCharsets.UTF_8)));

        int joined = cluster.startJoining("n3", port);
        await().atMost(EtcdCluster.WAIT)
                .untilAsserted(
                        () -> {
                            Member learner = byId(get(api.listMember()).getMembers(), id);
                            assertEquals("n3", learner.getName());
                            assertTrue(learner.isLearner());
                            assertEquals(
                                    List.of(URI.create(cluster.endpoint(joined))),
                                    learner.getClientURIs());
                        });
        // The learner has the log: it serves what was written before it joined, from its own state.
        await().atMost(EtcdCluster.WAIT)
                .untilAsserted(
                        () ->
                                assertEquals(
                                        1,
                                        get(cluster.jetcd(joined)
                                                        .getKVClient()
                                                        .get(
                                                                key,
                                                                GetOption.builder()
                                                                        .withSerializable(true)
                                                                        .build()))
                                                .getCount()));
        assertEquals(
                id,
                get(cluster.jetcd(joined)
                                .getKVClient()
                                .get(key, GetOption.builder().withSerializable(true).build()))
                        .getHeader()
                        .getMemberId(),
                "the joined member answers with the id MemberAdd gave it");
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: rpc not supported for learner",
                () ->
                        KVGrpc.newBlockingStub(cluster.channel(joined))
                                .withDeadlineAfter(30, TimeUnit.SECONDS)
                                .range(
                                        RangeRequest.newBuilder()
                                                .setKey(
                                                        ByteString.copyFromUtf8(
                                                                "cluster/before-join"))
                                                .build()));

        List<Member> promoted = get(api.promoteMember(id)).getMembers();
        assertFalse(byId(promoted, id).isLearner(), promoted.toString());
        assertEquals(4, promoted.size());
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: can only promote a learner member",
                () ->
                        stub(cluster, 0)
                                .memberPromote(
                                        MemberPromoteRequest.newBuilder().setID(id).build()));
    }

    @Test
    @Order(3)
    void removedMemberLeavesTheList(EtcdCluster cluster) throws Exception {
        Cluster api = cluster.jetcd(0).getClusterClient();
        long id = byName(get(api.listMember()).getMembers(), "n3").getId();

        List<Member> left = get(api.removeMember(id)).getMembers();
        assertEquals(3, left.size(), left.toString());
        assertTrue(left.stream().noneMatch(m -> m.getId() == id));
        // The three left still make progress and agree.
        ByteSequence key = ByteSequence.from("cluster/after-remove", StandardCharsets.UTF_8);
        get(
                cluster.jetcd(1)
                        .getKVClient()
                        .put(key, ByteSequence.from("v", StandardCharsets.UTF_8)));
        assertEquals(1, get(cluster.jetcd(2).getKVClient().get(key)).getCount());
    }

    @Test
    @Order(4)
    void unstartedMemberCanBeUpdatedAndRemoved(EtcdCluster cluster) throws Exception {
        var stub = stub(cluster, 1);
        String first = "http://127.0.0.1:" + EtcdCluster.freePort();
        String second = "http://127.0.0.1:" + EtcdCluster.freePort();
        long id =
                stub.memberAdd(MemberAddRequest.newBuilder().addPeerURLs(first).build())
                        .getMember()
                        .getID();

        var updated =
                stub.memberUpdate(
                        MemberUpdateRequest.newBuilder().setID(id).addPeerURLs(second).build());
        var member =
                updated.getMembersList().stream()
                        .filter(m -> m.getID() == id)
                        .findFirst()
                        .orElseThrow();
        assertEquals(List.of(second), member.getPeerURLsList());

        var removed = stub.memberRemove(MemberRemoveRequest.newBuilder().setID(id).build());
        assertEquals(3, removed.getMembersCount());
    }

    @Test
    @Order(5)
    void refusalsAsEtcdAnswersThem(EtcdCluster cluster) throws Exception {
        var stub = stub(cluster, 0);
        String taken = "http://" + cluster.settings(1).self().address();
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: Peer URLs already exists",
                () -> stub.memberAdd(MemberAddRequest.newBuilder().addPeerURLs(taken).build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: given member URLs are invalid",
                () ->
                        stub.memberAdd(
                                MemberAddRequest.newBuilder()
                                        .addPeerURLs("127.0.0.1:7000")
                                        .build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: given member URLs are invalid",
                () -> stub.memberAdd(MemberAddRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.NOT_FOUND,
                "etcdserver: member not found",
                () -> stub.memberRemove(MemberRemoveRequest.newBuilder().setID(12345).build()));
        assertStatus(
                Status.Code.NOT_FOUND,
                "etcdserver: member not found",
                () -> stub.memberPromote(MemberPromoteRequest.newBuilder().setID(12345).build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: can only promote a learner member",
                () ->
                        stub.memberPromote(
                                MemberPromoteRequest.newBuilder()
                                        .setID(cluster.memberId(1))
                                        .build()));
        String elsewhere = "http://127.0.0.1:" + EtcdCluster.freePort();
        StatusRuntimeException failure =
                assertThrows(
                        StatusRuntimeException.class,
                        () ->
                                stub.memberUpdate(
                                        MemberUpdateRequest.newBuilder()
                                                .setID(cluster.memberId(2))
                                                .addPeerURLs(elsewhere)
                                                .build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, failure.getStatus().getCode());
        assertTrue(
                failure.getStatus().getDescription().contains("cannot change in place"),
                failure.getStatus().getDescription());
        assertEquals(
                3,
                stub.memberList(MemberListRequest.getDefaultInstance()).getMembersCount(),
                "no refusal changed the membership");
    }

    private static ClusterGrpc.ClusterBlockingStub stub(EtcdCluster cluster, int member) {
        return ClusterGrpc.newBlockingStub(cluster.channel(member))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static Member byName(List<Member> members, String name) {
        return members.stream()
                .filter(m -> m.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " is not in " + members));
    }

    private static Member byId(List<Member> members, long id) {
        return members.stream()
                .filter(m -> m.getId() == id)
                .findFirst()
                .orElseThrow(
                        () -> new AssertionError(Long.toHexString(id) + " is not in " + members));
    }

    private static JsonNode byName(JsonNode members, String name) {
        for (JsonNode member : members) {
            if (name.equals(member.path("name").asText())) {
                return member;
            }
        }
        throw new AssertionError(name + " is not in " + members);
    }
}
