package io.capstan.controller.config;

import java.util.Objects;

/**
 * One entry of {@code capstan.raft.peers}: a cluster member as the others reach it over Raft, its
 * id and its Raft address, which is its web address with {@code capstan.raft.transport = web} and
 * the address of its gRPC transport with {@code grpc}. {@link io.capstan.raft.Peer} is the same
 * member as the Raft layer takes it.
 *
 * @param id member id, by {@link io.capstan.raft.Peer#isValidId}
 * @param host host name or IP address (IPv6 without brackets)
 * @param port that member's web port or gRPC transport port, by transport
 */
public record PeerEntry(String id, String host, int port) {

    public PeerEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(host, "host");
    }

    /** {@code host:port}, with an IPv6 host in brackets, as a URL authority needs it. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
