package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.web.Gate;
import io.capstan.web.Route;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.ServerFactory;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@link PeerTransport#configure} and {@link PeerTransport#routes} hand to Ratis and the web
 * layer.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PeerTransportConfigureTest {

    private static final long MAX_MESSAGE_BYTES = 8L << 20;

    private final PeerTransport transport =
            PeerTransport.create(
                    TestCluster.settings(MAX_MESSAGE_BYTES),
                    () -> new InetSocketAddress("127.0.0.1", 7480));

    @AfterEach
    void close() {
        transport.close();
    }

    @Test
    void ratisFindsThePlugInByClassNameAndGetsOneFactoryForServersAndClients() {
        RaftProperties properties = new RaftProperties();
        Parameters parameters = new Parameters();
        transport.configure(properties, parameters);

        RpcType type = RaftConfigKeys.Rpc.type(properties, message -> {});

        assertEquals(WebRpcType.class.getName(), type.name());
        assertEquals(WebRpcType.class.getName(), properties.get(RaftConfigKeys.Rpc.TYPE_KEY));
        Object factory = type.newFactory(parameters);
        assertTrue(factory instanceof ServerFactory && factory instanceof ClientFactory);
        assertSame(transport, parameters.get(WebRpcType.TRANSPORT_PARAMETER, PeerTransport.class));
    }

    @Test
    void ratisLimitsFitBelowTheRouteLimitAndTheLogWriteBufferHoldsTheLargestEntry() {
        RaftProperties properties = new RaftProperties();
        transport.configure(properties, new Parameters());

        long batch = RaftServerConfigKeys.Log.Appender.bufferByteLimit(properties).getSize();
        long chunk = RaftServerConfigKeys.Log.Appender.snapshotChunkSizeMax(properties).getSize();
        assertEquals(MAX_MESSAGE_BYTES - TransportLimits.HEADROOM_BYTES, batch);
        assertEquals(batch, chunk);
        assertEquals(
                TransportLimits.APPEND_BATCH_ENTRIES,
                RaftServerConfigKeys.Log.Appender.bufferElementLimit(properties));
        assertTrue(RaftServerConfigKeys.Log.writeBufferSize(properties).getSize() >= batch + 8);
    }

    @Test
    void aLargerLogWriteBufferIsKept() {
        RaftProperties properties = new RaftProperties();
        RaftServerConfigKeys.Log.setWriteBufferSize(properties, SizeInBytes.valueOf(64L << 20));

        transport.configure(properties, new Parameters());

        assertEquals(64L << 20, RaftServerConfigKeys.Log.writeBufferSize(properties).getSize());
    }

    @Test
    void onePeerChannelRouteBehindTheOwnersGateAndOperationLimitsThatFitTheAppendBatch() {
        Gate gate = Gate.open("raft");
        List<Route> routes = transport.routes(gate);

        assertEquals(1, routes.size());
        Route route = routes.get(0);
        assertEquals("GET", route.method());
        assertEquals(PeerChannels.PATH, route.path());
        assertSame(gate, route.owner());
        TransportLimits limits = transport.limits();
        assertEquals(MAX_MESSAGE_BYTES, Operation.APPEND_ENTRIES.maxBodyBytes(limits));
        assertEquals(MAX_MESSAGE_BYTES, Operation.INSTALL_SNAPSHOT.maxBodyBytes(limits));
        assertEquals(limits.clientBodyBytes(), Operation.CLIENT_ORDERED.maxBodyBytes(limits));
        assertTrue(limits.clientBodyBytes() < limits.appendBatchBytes());
    }

    @Test
    void aClosedTransportConfiguresNothing() {
        transport.close();

        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () -> transport.configure(new RaftProperties(), new Parameters()));
        assertEquals("peer transport is closed", e.getMessage());
    }

    @Test
    void parametersWithoutTheTransportGiveAClearError() {
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () -> new WebRpcType().newFactory(new Parameters()));
        assertTrue(e.getMessage().contains("PeerTransport.configure"), e.getMessage());
    }
}
