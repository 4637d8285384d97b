package io.capstan.raft;

/** A membership change the cluster refused; nothing changed. */
public final class MembershipException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why; each maps to one of etcd's Cluster API errors. */
    public enum Reason {
        /** No member has that id. */
        MEMBER_NOT_FOUND,
        /** Another member already uses one of the peer URLs. */
        PEER_URL_EXISTS,
        /** Promote was asked for a voting member. */
        MEMBER_NOT_LEARNER,
        /** Promote was asked for a learner that has not started or caught up with the leader. */
        LEARNER_NOT_READY,
        /** The change would leave the cluster without enough voting members. */
        NOT_ENOUGH_MEMBERS,
        /** A peer URL is not http(s)://host:port. */
        BAD_PEER_URL,
        /** A started member's peer address cannot change in place. */
        ADDRESS_FIXED
    }

    private final Reason reason;

    public MembershipException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
