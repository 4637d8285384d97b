package io.capstan.controller.admin;

import io.capstan.raft.Member;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import io.capstan.raft.ReadConsistency;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@code GET /v1/cluster}: the cluster id and every member, each started one with its Raft numbers.
 * The member list is this member's own view (serializable), so the answer comes even without a
 * quorum, when an operator needs it most. This member's numbers are its own; every other started
 * member is asked through its web port (see {@link PeerProbe}), all at once.
 *
 * <pre>{"cluster_id": hex, "member_id": hex (who answered), "leader_id": hex or null,
 *  "members": [{...member (see MemberJson), "raft": {...} (started members)}]}</pre>
 *
 * <p>Immutable.
 */
final class ClusterStatusEndpoint implements AdminEndpoint {

    private final RaftNode raft;
    private final LeaderWatch leaders;
    private final long clusterId;

    /** Empty when peer URLs are not web addresses (Ratis's gRPC transport). */
    private final Optional<PeerProbe> probe;

    ClusterStatusEndpoint(
            RaftNode raft, LeaderWatch leaders, long clusterId, Optional<PeerProbe> probe) {
        this.raft = raft;
        this.leaders = leaders;
        this.clusterId = clusterId;
        this.probe = probe;
    }

    @Override
    public CompletableFuture<Answer> call(Request request) {
        return raft.admin()
                .members(ReadConsistency.SERIALIZABLE)
                .thenCompose(
                        members -> {
                            NodeStatus self = raft.status();
                            List<CompletableFuture<Map<String, Object>>> states = new ArrayList<>();
                            for (Member member : members) {
                                states.add(state(member, self));
                            }
                            return CompletableFuture.allOf(states.toArray(CompletableFuture[]::new))
                                    .thenApply(done -> answer(members, states, self));
                        });
    }

    /** The answer once every member's state is in ({@code states} in the order of members). */
    private Answer answer(
            List<Member> members,
            List<CompletableFuture<Map<String, Object>>> states,
            NodeStatus self) {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            Map<String, Object> entry = MemberJson.view(members.get(i), self.leaderId());
            Map<String, Object> state = states.get(i).join();
            if (state != null) {
                entry.put("raft", state);
            }
            entries.add(entry);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("cluster_id", MemberIds.format(clusterId));
        body.put("member_id", MemberIds.format(raft.memberId()));
        body.put(
                "leader_id",
                self.leaderId().map(name -> MemberIds.format(raft.memberIdOf(name))).orElse(null));
        body.put("members", entries);
        return Answer.ok(body);
    }

    /** Null for a member not started, which has no Raft state yet. */
    private CompletableFuture<Map<String, Object>> state(Member member, NodeStatus self) {
        if (!member.started()) {
            return CompletableFuture.completedFuture(null);
        }
        if (member.name().equals(self.nodeId())) {
            return CompletableFuture.completedFuture(
                    PeerProbe.reachable(
                            Health.roleName(self.role()),
                            self.term(),
                            self.commitIndex(),
                            self.appliedIndex(),
                            leaders.sinceLeader(self).map(Duration::toMillis).orElse(null)));
        }
        if (probe.isEmpty() || member.peerUrls().isEmpty()) {
            return CompletableFuture.completedFuture(
                    PeerProbe.unreachable(
                            "its peer URL is Ratis's gRPC transport, not its web address"));
        }
        return probe.get().raftState(member.peerUrls().get(0));
    }
}
