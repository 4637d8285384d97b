package io.capstan.transport;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;

/**
 * The Ratis RPC type of the web-layer transport. Ratis finds it by class name: it reads {@code
 * raft.rpc.type}, fails to match a built-in type, and creates this class with its public
 * no-argument constructor; {@link #name()} is therefore the class name. {@link
 * PeerTransport#configure} sets both the type and the {@link Parameters} entry the factory needs.
 * Stateless; instances are interchangeable.
 */
public final class WebRpcType implements RpcType {

    /** The {@link Parameters} key under which the member's {@link PeerTransport} travels. */
    static final String TRANSPORT_PARAMETER = "capstan.transport.peer-transport";

    @Override
    public String name() {
        return WebRpcType.class.getName();
    }

    /**
     * @throws IllegalStateException if {@code parameters} lack the transport, i.e. the server or
     *     client was built without {@link PeerTransport#configure}
     */
    @Override
    public RpcFactory newFactory(Parameters parameters) {
        PeerTransport transport = parameters.get(TRANSPORT_PARAMETER, PeerTransport.class);
        if (transport == null) {
            throw new IllegalStateException(
                    "Ratis parameters carry no peer transport: build the Raft server and "
                            + "client with the Parameters that PeerTransport.configure filled");
        }
        return new WebRpcFactory(this, transport);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebRpcType;
    }

    @Override
    public int hashCode() {
        return WebRpcType.class.hashCode();
    }

    @Override
    public String toString() {
        return name();
    }
}
