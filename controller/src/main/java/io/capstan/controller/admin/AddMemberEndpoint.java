package io.capstan.controller.admin;

import io.capstan.raft.RaftNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/cluster/members} with {@code {"peer_url": "http://host:port", "learner": bool}}:
 * records a member to be started next with {@code capstan.raft.initial-cluster-state = existing},
 * which then joins by itself (as etcd's member add). Answers 201 with {@code {"member": ...}} and
 * its {@code Location}. Immutable.
 */
final class AddMemberEndpoint implements AdminEndpoint {
    private static final String PEER_URL = "peer_url";
    private static final String LEARNER = "learner";

    private final RaftNode raft;

    AddMemberEndpoint(RaftNode raft) {
        this.raft = raft;
    }

    @Override
    public CompletableFuture<Answer> call(Request request) {
        RequestJson body = RequestJson.parse(request.body(), Set.of(PEER_URL, LEARNER));
        String peerUrl = body.requiredText(PEER_URL);
        boolean learner = body.flag(LEARNER, false);
        return raft.admin()
                .addMember(List.of(peerUrl), learner)
                .thenApply(
                        member ->
                                new Answer(
                                        201,
                                        Map.of(
                                                "member",
                                                MemberJson.view(member, raft.status().leaderId())),
                                        Map.of(
                                                "Location",
                                                AdminApi.MEMBERS
                                                        + "/"
                                                        + MemberIds.format(member.id()))));
    }
}
