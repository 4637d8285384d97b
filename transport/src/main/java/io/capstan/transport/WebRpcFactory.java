package io.capstan.transport;

import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpc;
import org.apache.ratis.server.ServerFactory;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * What Ratis asks for when it builds a server or a client over the web-layer transport: both are
 * made by the member's {@link PeerTransport}. The default log appender stays: it sends one append
 * at a time per follower, so appends never overtake each other on separate HTTP/2 streams.
 * Immutable.
 */
final class WebRpcFactory implements ServerFactory, ClientFactory {

    private final RpcType type;
    private final PeerTransport transport;

    WebRpcFactory(RpcType type, PeerTransport transport) {
        this.type = type;
        this.transport = transport;
    }

    @Override
    public RpcType getRpcType() {
        return type;
    }

    /** Ratis's default appender, which the transport also wakes for leadership rounds. */
    @Override
    public LogAppender newLogAppender(
            RaftServer.Division server, LeaderState state, FollowerInfo follower) {
        LogAppender appender = ServerFactory.super.newLogAppender(server, state, follower);
        transport.appenderStarted(appender);
        return appender;
    }

    @Override
    public RaftServerRpc newRaftServerRpc(RaftServer server) {
        return transport.newServerRpc(server, type);
    }

    @Override
    public RaftClientRpc newRaftClientRpc(ClientId clientId, RaftProperties properties) {
        return transport.newClientRpc(clientId, properties);
    }
}
