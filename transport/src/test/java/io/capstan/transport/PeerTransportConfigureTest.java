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

/** What {@link PeerTransport#configure} and {@link PeerTransport#routes} hand to Ratis and the web layer. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PeerTransportConfigureTest {

    private static final long MAX_MESSAGE_BYTES = 8L << 20;

    private final PeerTransport transport = PeerTransport.create(TestCluster.settings(MAX_MESSAGE_BYTES),
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

        RpcType type = RaftConfigKeys.Rpc.type(properties, message -> { });

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
        assertEquals(TransportLimits.APPEND_BATCH_ENTRIES,
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
    void everyOperationHasAPostRouteWithItsBodyLimit() {
        Gate gate = Gate.open("raft");
        List<Route> routes = transport.routes(gate);

        assertEquals(Operation.values().length, routes.size());
        TransportLimits limits = transport.limits();
        for (Route route : routes) {
            assertEquals("POST", route.method());
            assertSame(gate, route.owner());
            assertTrue(route.path().startsWith("/raft/v1/"), route.path());
        }
        assertEquals(MAX_MESSAGE_BYTES, limitOf(routes, Operation.APPEND_ENTRIES));
        assertEquals(MAX_MESSAGE_BYTES, limitOf(routes, Operation.INSTALL_SNAPSHOT));
        assertEquals(limits.clientBodyBytes(), limitOf(routes, Operation.CLIENT_ORDERED));
        assertTrue(limits.clientBodyBytes() < limits.appendBatchBytes());
    }

    @Test
    void aClosedTransportConfiguresNothing() {
        transport.close();

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> transport.configure(new RaftProperties(), new Parameters()));
        assertEquals("peer transport is closed", e.getMessage());
    }

    @Test
    void parametersWithoutTheTransportGiveAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new WebRpcType().newFactory(new Parameters()));
        assertTrue(e.getMessage().contains("PeerTransport.configure"), e.getMessage());
    }

    private static long limitOf(List<Route> routes, Operation operation) {
        return routes.stream().filter(r -> r.path().equals(operation.path())).findFirst().orElseThrow().maxBodyBytes();
    }
}
