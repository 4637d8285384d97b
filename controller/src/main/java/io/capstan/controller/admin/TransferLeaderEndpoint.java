package io.capstan.controller.admin;

import io.capstan.raft.Member;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import io.capstan.raft.ReadConsistency;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/cluster/leader} with {@code {"member": "<id hex or name>"}}: hands leadership to
 * that voting member and answers {@code {"leader": ...}} once it leads (at once when it already
 * does). A name is matched first, so a name that happens to be hex still means that member.
 *
 * <p>Only the leader can hand leadership over: any other member answers 409 {@code not_leader} with
 * the leader's {@code leader}, {@code leader_id} and {@code leader_url} (its web address), where
 * the caller repeats the request; the CLI does so by itself. Immutable.
 */
final class TransferLeaderEndpoint implements AdminEndpoint {
    private static final String MEMBER = "member";

    private final RaftNode raft;

    TransferLeaderEndpoint(RaftNode raft) {
        this.raft = raft;
    }

    @Override
    public CompletableFuture<Answer> call(Request request) {
        String target = RequestJson.parse(request.body(), Set.of(MEMBER)).requiredText(MEMBER);
        return raft.admin()
                .members(ReadConsistency.SERIALIZABLE)
                .thenCompose(
                        members -> {
                            Member chosen = resolve(members, target);
                            if (!chosen.started()) {
                                throw AdminError.of(
                                                409,
                                                "member_not_started",
                                                "member " + target + " has not started yet")
                                        .toException();
                            }
                            if (chosen.learner()) {
                                throw AdminError.of(
                                                409,
                                                "member_not_voter",
                                                "member "
                                                        + target
                                                        + " is a learner; only a voting member can lead (promote it first)")
                                        .toException();
                            }
                            NodeStatus self = raft.status();
                            Answer done =
                                    Answer.ok(
                                            Map.of(
                                                    "leader",
                                                    MemberJson.view(
                                                            chosen, Optional.of(chosen.name()))));
                            if (self.leaderId().equals(Optional.of(chosen.name()))) {
                                return CompletableFuture.completedFuture(done);
                            }
                            if (self.role() != NodeStatus.Role.LEADER) {
                                throw notLeader(self, members).toException();
                            }
                            return raft.admin()
                                    .transferLeadership(chosen.name())
                                    .thenApply(transferred -> done);
                        });
    }

    private static Member resolve(List<Member> members, String target) {
        Optional<Member> byName =
                members.stream().filter(m -> m.started() && m.name().equals(target)).findFirst();
        if (byName.isPresent()) {
            return byName.get();
        }
        if (MemberIds.isId(target)) {
            long id = MemberIds.parse(target);
            Optional<Member> byId = members.stream().filter(m -> m.id() == id).findFirst();
            if (byId.isPresent()) {
                return byId.get();
            }
        }
        throw AdminErrors.memberNotFound(target).toException();
    }

    private static AdminError notLeader(NodeStatus self, List<Member> members) {
        Optional<Member> leader =
                self.leaderId()
                        .flatMap(
                                name ->
                                        members.stream()
                                                .filter(m -> m.name().equals(name))
                                                .findFirst());
        if (leader.isEmpty()) {
            return AdminError.of(
                    503, AdminErrors.NO_LEADER, "member " + self.nodeId() + " knows no leader");
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("leader", leader.get().name());
        details.put("leader_id", MemberIds.format(leader.get().id()));
        details.put(
                "leader_url",
                leader.get().peerUrls().isEmpty() ? "" : leader.get().peerUrls().get(0));
        return new AdminError(
                409,
                AdminErrors.NOT_LEADER,
                "member "
                        + self.nodeId()
                        + " is not the leader; send this to the leader, "
                        + leader.get().name(),
                details);
    }
}
