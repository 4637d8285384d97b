package io.capstan.raft;

import java.util.Optional;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;

/**
 * Chooses how Raft peers reach each other. {@link RaftNode} calls it once per member, before it
 * builds that member's Ratis server and client, to fill in the RPC type and whatever that transport
 * needs (listen address and port, factories passed through {@link Parameters}). The same properties
 * then configure both the server and the client, so forwarded writes and reads use the same
 * transport. {@link GrpcTransportBinding} is Ratis's built-in gRPC transport.
 */
public interface TransportBinding {

    /**
     * @param self the member being configured; it must listen at {@code self.address()}
     * @param properties Ratis properties, already holding every non-transport setting
     * @param parameters Ratis parameters, for objects that properties cannot carry
     */
    void configure(Peer self, RaftProperties properties, Parameters parameters);

    /**
     * How a leader proves it still leads before a linearizable read, when this transport can
     * without a log entry; when it cannot (the default), each read round commits an empty entry.
     */
    default Optional<LeadershipCheck> leadershipCheck() {
        return Optional.empty();
    }
}
