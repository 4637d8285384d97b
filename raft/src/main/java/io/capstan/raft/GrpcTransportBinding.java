package io.capstan.raft;

import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.rpc.SupportedRpcType;

/**
 * Ratis's built-in gRPC transport: server, client and admin protocols share one port, the one in
 * the member's address. Stateless.
 */
public final class GrpcTransportBinding implements TransportBinding {

    @Override
    public void configure(Peer self, RaftProperties properties, Parameters parameters) {
        RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.GRPC);
        GrpcConfigKeys.Server.setHost(properties, self.host());
        GrpcConfigKeys.Server.setPort(properties, self.port());
    }
}
