package io.capstan.etcd;

import io.capstan.etcd.api.Member;
import io.capstan.etcd.api.MemberAddRequest;
import io.capstan.etcd.api.MemberAddResponse;
import io.capstan.etcd.api.MemberListRequest;
import io.capstan.etcd.api.MemberListResponse;
import io.capstan.etcd.api.MemberPromoteRequest;
import io.capstan.etcd.api.MemberPromoteResponse;
import io.capstan.etcd.api.MemberRemoveRequest;
import io.capstan.etcd.api.MemberRemoveResponse;
import io.capstan.etcd.api.MemberUpdateRequest;
import io.capstan.etcd.api.MemberUpdateResponse;
import io.capstan.raft.ReadConsistency;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Cluster calls over the Raft node's membership, shared by the gRPC service and the JSON
 * gateway. Futures complete on the API executor and fail only with {@link EtcdException}.
 * Immutable; safe on any thread.
 *
 * <p>As in etcd, a member is added before it starts: MemberAdd records it (no name, not started),
 * and the member joins when started with {@code capstan.raft.initial-cluster-state = existing}.
 * Learners are Ratis listeners: they receive the log but do not vote until promoted. Headers carry
 * no revision, as etcd's Cluster answers do. A started member's peer URL does not change in place
 * (Ratis has no address change): MemberUpdate of one refuses a new address. With auth on, every
 * change needs the root role; MemberList needs nothing, as in etcd (clients call it to find
 * endpoints).
 */
final class ClusterOperations {

    private final RaftCalls raft;

    ClusterOperations(RaftCalls raft) {
        this.raft = raft;
    }

    CompletableFuture<MemberListResponse> list(MemberListRequest request) {
        ReadConsistency consistency =
                request.getLinearizable()
                        ? ReadConsistency.LINEARIZABLE
                        : ReadConsistency.SERIALIZABLE;
        return raft.admin(admin -> admin.members(consistency))
                .thenApply(
                        members ->
                                MemberListResponse.newBuilder()
                                        .setHeader(raft.header(0))
                                        .addAllMembers(toEtcd(members))
                                        .build());
    }

    CompletableFuture<MemberAddResponse> add(MemberAddRequest request) {
        return raft.asAdmin(
                () ->
                        raft.admin(
                                        admin ->
                                                admin.addMember(
                                                        request.getPeerURLsList(),
                                                        request.getIsLearner()))
                                .thenCompose(this::added));
    }

    private CompletableFuture<MemberAddResponse> added(io.capstan.raft.Member added) {
        return linearizableMembers()
                .thenApply(
                        members ->
                                MemberAddResponse.newBuilder()
                                        .setHeader(raft.header(0))
                                        .setMember(toEtcd(added))
                                        .addAllMembers(toEtcd(members))
                                        .build());
    }

    CompletableFuture<MemberRemoveResponse> remove(MemberRemoveRequest request) {
        return raft.asAdmin(
                () ->
                        raft.admin(admin -> admin.removeMember(request.getID()))
                                .thenApply(
                                        members ->
                                                MemberRemoveResponse.newBuilder()
                                                        .setHeader(raft.header(0))
                                                        .addAllMembers(toEtcd(members))
                                                        .build()));
    }

    CompletableFuture<MemberUpdateResponse> update(MemberUpdateRequest request) {
        return raft.asAdmin(
                () ->
                        raft.admin(
                                        admin ->
                                                admin.updateMember(
                                                        request.getID(), request.getPeerURLsList()))
                                .thenApply(
                                        members ->
                                                MemberUpdateResponse.newBuilder()
                                                        .setHeader(raft.header(0))
                                                        .addAllMembers(toEtcd(members))
                                                        .build()));
    }

    CompletableFuture<MemberPromoteResponse> promote(MemberPromoteRequest request) {
        return raft.asAdmin(
                () ->
                        raft.admin(admin -> admin.promoteMember(request.getID()))
                                .thenCompose(promoted -> linearizableMembers())
                                .thenApply(
                                        members ->
                                                MemberPromoteResponse.newBuilder()
                                                        .setHeader(raft.header(0))
                                                        .addAllMembers(toEtcd(members))
                                                        .build()));
    }

    private CompletableFuture<List<io.capstan.raft.Member>> linearizableMembers() {
        return raft.admin(admin -> admin.members(ReadConsistency.LINEARIZABLE));
    }

    private static List<Member> toEtcd(List<io.capstan.raft.Member> members) {
        return members.stream().map(ClusterOperations::toEtcd).toList();
    }

    private static Member toEtcd(io.capstan.raft.Member member) {
        return Member.newBuilder()
                .setID(member.id())
                .setName(member.name())
                .addAllPeerURLs(member.peerUrls())
                .addAllClientURLs(member.clientUrls())
                .setIsLearner(member.learner())
                .build();
    }
}
