package io.capstan.raft;

import java.util.Optional;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * A member's Raft state at one moment, for health checks and admin endpoints.
 *
 * @param nodeId this member
 * @param role its role, {@link Role#STOPPED} when its server is not running
 * @param term current term
 * @param leaderId the leader this member knows of, if any
 * @param commitIndex highest log index known committed
 * @param appliedIndex highest log index applied to the state machine
 */
public record NodeStatus(
        String nodeId,
        Role role,
        long term,
        Optional<String> leaderId,
        long commitIndex,
        long appliedIndex) {

    public enum Role {
        LEADER,
        CANDIDATE,
        FOLLOWER,
        LISTENER,
        STOPPED
    }

    /**
     * How far the applied index may trail the commit index while the member still counts as caught
     * up. Under writes a member always trails by the entries in flight between commit and apply, so
     * demanding none would take a busy member out of service; a member replaying its log after a
     * restart trails by far more.
     */
    public static final long MAX_APPLY_LAG = 1_000;

    /**
     * Caught up: running, and its applied index trails the commit index it knows by at most {@link
     * #MAX_APPLY_LAG}. A new leader's first entry (index 0 in a fresh group) must be applied, so a
     * member that has applied nothing yet is never caught up.
     */
    public boolean caughtUp() {
        return role != Role.STOPPED
                && appliedIndex >= 0
                && commitIndex - appliedIndex <= MAX_APPLY_LAG;
    }

    /** What {@code division}, this member's running Raft division, says of it now. */
    static NodeStatus of(String nodeId, RaftServer.Division division) {
        Role role =
                switch (division.getInfo().getCurrentRole()) {
                    case LEADER -> Role.LEADER;
                    case CANDIDATE -> Role.CANDIDATE;
                    case FOLLOWER -> Role.FOLLOWER;
                    case LISTENER -> Role.LISTENER;
                    default -> Role.STOPPED;
                };
        // A member that joined as a listener keeps Ratis's follower role until it restarts;
        // the configuration says what it is.
        if (role == Role.FOLLOWER
                && division.getRaftConf().getPeer(division.getId(), RaftPeerRole.LISTENER)
                        != null) {
            role = Role.LISTENER;
        }
        return new NodeStatus(
                nodeId,
                role,
                division.getInfo().getCurrentTerm(),
                Optional.ofNullable(division.getInfo().getLeaderId()).map(RaftPeerId::toString),
                division.getRaftLog().getLastCommittedIndex(),
                division.getInfo().getLastAppliedIndex());
    }
}
