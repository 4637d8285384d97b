package io.capstan.faults;

import java.util.Locale;

/** The faults the harness injects; each is healed before the next one starts. */
enum FaultKind {
    /** SIGKILL of a random member, restarted after the hold. */
    KILL,
    /** SIGKILL of the leader, restarted after the hold. */
    KILL_LEADER,
    /** SIGSTOP of a random member for longer than an election timeout, then SIGCONT. */
    PAUSE,
    /** SIGSTOP of the leader for longer than an election timeout, then SIGCONT. */
    PAUSE_LEADER,
    /** SIGKILL of every member at once, then all restarted. */
    KILL_ALL,
    /** The leader cut off from every other member (both ways), then healed. */
    ISOLATE_LEADER(true),
    /**
     * The members split at random into a minority and a majority that cannot reach each other, then
     * healed.
     */
    PARTITION(true),
    /** One member's messages to another dropped (the other's still arrive), then healed. */
    DROP_ONE_WAY(true),
    /**
     * A random member removed through the Cluster API, its process stopped and its data deleted,
     * then added back as a voter and started to join the cluster.
     */
    MEMBER_CHANGE,
    /**
     * As {@link #MEMBER_CHANGE}, added back as a learner that is promoted once it has caught up.
     */
    MEMBER_CHANGE_LEARNER;

    private final boolean dropsMessages;

    FaultKind() {
        this(false);
    }

    FaultKind(boolean dropsMessages) {
        this.dropsMessages = dropsMessages;
    }

    /**
     * Whether the kind drops messages between members, which needs the target's {@link LinkFaults}.
     */
    boolean dropsMessages() {
        return dropsMessages;
    }

    /** The kind's name on the command line and in logs: {@code kill-leader}. */
    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The kind of a {@link #label}; throws {@link IllegalArgumentException} naming the kinds when
     * there is none.
     */
    static FaultKind parse(String label) {
        for (FaultKind k : values()) {
            if (k.label().equals(label.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException(
                "unknown fault kind "
                        + label
                        + "; kinds: "
                        + java.util.Arrays.stream(values()).map(FaultKind::label).toList());
    }
}
