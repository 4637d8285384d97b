package io.capstan.controller.admin;

import io.capstan.raft.RaftNode;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/cluster/members/{id}/promote}: makes a started learner that has caught up with
 * the leader a voter; answers {@code {"member": ...}}. Immutable.
 */
final class PromoteMemberEndpoint implements AdminEndpoint {

    private final RaftNode raft;

    PromoteMemberEndpoint(RaftNode raft) {
        this.raft = raft;
    }

    @Override
    public CompletableFuture<Answer> call(Request request) {
        long id = MemberIds.parse(request.path(AdminApi.ID));
        return raft.admin()
                .promoteMember(id)
                .thenApply(
                        member ->
                                Answer.ok(
                                        Map.of(
                                                "member",
                                                MemberJson.view(
                                                        member, raft.status().leaderId()))));
    }
}
