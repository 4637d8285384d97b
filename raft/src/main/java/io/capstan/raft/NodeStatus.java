package io.capstan.raft;

import java.util.Optional;

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
     * Serving: it knows a leader and has applied everything it knows to be committed. A new
     * leader's first entry (index 0 in a fresh group) must be applied too, so a member that has
     * applied nothing yet is never reported serving in the instant before it learns the commit.
     */
    public boolean serving() {
        return role != Role.STOPPED
                && leaderId.isPresent()
                && appliedIndex >= 0
                && appliedIndex >= commitIndex;
    }
}
