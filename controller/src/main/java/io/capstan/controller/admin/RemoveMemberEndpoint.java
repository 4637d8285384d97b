package io.capstan.controller.admin;

import io.capstan.raft.RaftNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code DELETE /v1/cluster/members/{id}}: removes the member (started or not); answers {@code
 * {"removed": id, "members": [...the rest]}}. Immutable.
 */
final class RemoveMemberEndpoint implements AdminEndpoint {

    private final RaftNode raft;

    RemoveMemberEndpoint(RaftNode raft) {
        this.raft = raft;
    }

    @Override
    public CompletableFuture<Answer> call(Request request) {
        long id = MemberIds.parse(request.path(AdminApi.ID));
        return raft.admin()
                .removeMember(id)
                .thenApply(
                        members -> {
                            Map<String, Object> body = new LinkedHashMap<>();
                            body.put("removed", MemberIds.format(id));
                            body.put(
                                    "members", MemberJson.views(members, raft.status().leaderId()));
                            return Answer.ok(body);
                        });
    }
}
