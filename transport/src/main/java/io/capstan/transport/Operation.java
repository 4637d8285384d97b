package io.capstan.transport;

/**
 * Every Ratis RPC the transport carries. On a peer channel a request names its operation by {@link
 * #code()}, which never changes once assigned; the request is the request proto's bytes, the answer
 * the reply proto's bytes or a serialised throwable (see {@link PeerWire}).
 */
enum Operation {
    // Server to server: Raft's own protocol.
    REQUEST_VOTE(1, "request-vote", Kind.SERVER),
    APPEND_ENTRIES(2, "append-entries", Kind.SERVER),
    INSTALL_SNAPSHOT(3, "install-snapshot", Kind.SERVER),
    START_LEADER_ELECTION(4, "start-leader-election", Kind.SERVER),
    READ_INDEX(5, "read-index", Kind.SERVER),
    // Client to server: what a RaftClient sends, from the controller or from a member.
    CLIENT_ORDERED(6, "client-ordered", Kind.CLIENT),
    CLIENT_UNORDERED(7, "client-unordered", Kind.CLIENT),
    // Client to server: administration.
    SET_CONFIGURATION(8, "set-configuration", Kind.CLIENT),
    TRANSFER_LEADERSHIP(9, "transfer-leadership", Kind.CLIENT),
    SNAPSHOT_MANAGEMENT(10, "snapshot-management", Kind.CLIENT),
    LEADER_ELECTION_MANAGEMENT(11, "leader-election-management", Kind.CLIENT),
    GROUP_MANAGEMENT(12, "group-management", Kind.CLIENT),
    GROUP_LIST(13, "group-list", Kind.CLIENT),
    GROUP_INFO(14, "group-info", Kind.CLIENT);

    /** Which body limit applies: server messages carry append batches and snapshot chunks. */
    enum Kind {
        SERVER,
        CLIENT
    }

    private static final Operation[] BY_CODE = new Operation[16];

    static {
        for (Operation operation : values()) {
            BY_CODE[operation.code] = operation;
        }
    }

    private final byte code;
    private final String label;
    private final Kind kind;

    Operation(int code, String label, Kind kind) {
        this.code = (byte) code;
        this.label = label;
        this.kind = kind;
    }

    /** The operation with {@code code}, or null when there is none. */
    static Operation of(byte code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    byte code() {
        return code;
    }

    /** The operation's name in messages and logs. */
    String label() {
        return label;
    }

    /** The largest request this operation may carry. */
    long maxBodyBytes(TransportLimits limits) {
        return kind == Kind.SERVER ? limits.peerBodyBytes() : limits.clientBodyBytes();
    }
}
