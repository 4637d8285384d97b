package io.capstan.transport;

/**
 * Every Ratis RPC the transport carries, each on its own {@code POST} path of the web port.
 * The request body is the request proto's bytes; the reply body is the reply proto's bytes, or
 * a serialised throwable (see {@link PeerWire}).
 */
enum Operation {
    // Server to server: Raft's own protocol.
    REQUEST_VOTE("request-vote", Kind.SERVER),
    APPEND_ENTRIES("append-entries", Kind.SERVER),
    INSTALL_SNAPSHOT("install-snapshot", Kind.SERVER),
    START_LEADER_ELECTION("start-leader-election", Kind.SERVER),
    READ_INDEX("read-index", Kind.SERVER),
    // Client to server: what a RaftClient sends, from the controller or from a member.
    CLIENT_ORDERED("client/ordered", Kind.CLIENT),
    CLIENT_UNORDERED("client/unordered", Kind.CLIENT),
    // Client to server: administration.
    SET_CONFIGURATION("admin/set-configuration", Kind.CLIENT),
    TRANSFER_LEADERSHIP("admin/transfer-leadership", Kind.CLIENT),
    SNAPSHOT_MANAGEMENT("admin/snapshot-management", Kind.CLIENT),
    LEADER_ELECTION_MANAGEMENT("admin/leader-election-management", Kind.CLIENT),
    GROUP_MANAGEMENT("admin/group-management", Kind.CLIENT),
    GROUP_LIST("admin/group-list", Kind.CLIENT),
    GROUP_INFO("admin/group-info", Kind.CLIENT);

    /** Which body limit applies: server messages carry append batches and snapshot chunks. */
    enum Kind { SERVER, CLIENT }

    static final String PATH_PREFIX = "/raft/v1/";

    private final String path;
    private final Kind kind;

    Operation(String name, Kind kind) {
        this.path = PATH_PREFIX + name;
        this.kind = kind;
    }

    String path() {
        return path;
    }

    /** The largest request body this operation may carry. */
    long maxBodyBytes(TransportLimits limits) {
        return kind == Kind.SERVER ? limits.peerBodyBytes() : limits.clientBodyBytes();
    }
}
