package io.capstan.transport;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.PeerProxyMap;

/**
 * Where a peer's web layer listens, as a base URI: {@code https} when the members' web layers serve
 * TLS, else {@code http}. The connection to it belongs to the member's {@link PeerChannels}, so
 * closing an endpoint (which Ratis does when it resets a "proxy") has nothing to release.
 * Immutable.
 *
 * <p>Every RPC of a member goes to its one web port, so a peer's client and admin addresses, which
 * Ratis lets differ, are not used.
 *
 * @param id the peer
 * @param base {@code http://host:port} or {@code https://host:port}
 */
record PeerEndpoint(RaftPeerId id, URI base) implements Closeable {

    static PeerEndpoint of(RaftPeer peer, String scheme) throws IOException {
        String address = peer.getAddress();
        if (address == null || address.isBlank()) {
            throw new IOException("peer " + peer.getId() + " has no address");
        }
        try {
            URI base = new URI(scheme + "://" + address);
            if (base.getHost() == null || base.getPort() < 1) {
                throw new URISyntaxException(address, "expected host:port");
            }
            return new PeerEndpoint(peer.getId(), base);
        } catch (URISyntaxException e) {
            throw new IOException(
                    "peer "
                            + peer.getId()
                            + " has a bad address '"
                            + address
                            + "': expected host:port",
                    e);
        }
    }

    /**
     * The endpoints of the peers Ratis adds, created on first use; {@code scheme} is {@code http}
     * or {@code https}.
     */
    static PeerProxyMap<PeerEndpoint> newMap(String name, String scheme) {
        return new PeerProxyMap<>(name, peer -> of(peer, scheme));
    }

    @Override
    public void close() {
        // Nothing to release: see the class comment.
    }
}
