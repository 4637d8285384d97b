package io.capstan.controller.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Cluster membership and peer transport, bound from {@code capstan.raft.*}.
 *
 * <p>Each peer is a member's Raft address, which depends on {@code transport}: with {@link
 * Transport#WEB} it is the member's web address (its {@code capstan.web.port}), with {@link
 * Transport#GRPC} the address of its Ratis gRPC transport (its {@code capstan.raft.grpc-port}).
 * This node's own entry uses that port of its own. When the configuration lists no peers, {@code
 * peers} holds this node alone, at {@code capstan.node.host} and the port of its transport.
 *
 * @param peers every voting member, this node included; ids and addresses unique
 * @param transport how Raft messages travel between peers
 * @param groupId the Raft group id; every member of one cluster uses the same
 * @param secretFile file holding the cluster secret that authenticates peer messages; empty only
 *     for a single-node cluster on loopback, which then runs with a secret of its own that nothing
 *     else knows
 * @param grpcPort port of Ratis's own gRPC transport, used when {@code transport} is GRPC
 */
public record ClusterSettings(
        List<PeerEntry> peers,
        Transport transport,
        UUID groupId,
        Optional<Path> secretFile,
        int grpcPort) {

    /** The Raft peer transports Capstan can run over. */
    public enum Transport {
        /** Peer messages travel through the Undertow web layer (the default). */
        WEB,
        /**
         * Ratis's built-in gRPC transport, on {@code grpcPort}; the web transport's twin in tests.
         */
        GRPC
    }

    public ClusterSettings {
        peers = List.copyOf(peers);
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(secretFile, "secretFile");
    }
}
