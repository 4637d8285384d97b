package io.capstan.transport;

import static org.awaitility.Awaitility.await;

import io.capstan.web.Gate;
import io.capstan.web.Readiness;
import io.capstan.web.WebServer;
import io.capstan.web.WebSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * Members on loopback, each with its own web server (ephemeral port), peer transport and Ratis
 * server over it, started in the order the daemon uses: web layer, then Raft. Short election
 * timeouts keep tests quick. Closing stops clients, servers, transports and web servers.
 */
final class TestCluster implements AutoCloseable {

    static final byte[] SECRET =
            "transport-test-cluster-secret".getBytes(StandardCharsets.US_ASCII);
    static final Duration WAIT = Duration.ofSeconds(30);

    /** One member. {@link #restart} replaces its server and state machine. */
    static final class Node {
        final RaftPeerId id;
        final PeerTransport transport;
        final WebServer web;
        final Path dir;
        volatile AppliedLog machine;
        volatile RaftServer server;

        Node(RaftPeerId id, PeerTransport transport, WebServer web, Path dir) {
            this.id = id;
            this.transport = transport;
            this.web = web;
            this.dir = dir;
        }

        InetSocketAddress address() {
            return web.address();
        }

        boolean isLeader(RaftGroupId group) {
            RaftServer s = server;
            try {
                return s != null
                        && s.getLifeCycleState() == LifeCycle.State.RUNNING
                        && s.getDivision(group).getInfo().isLeader();
            } catch (IOException e) {
                return false;
            }
        }

        long currentTerm(RaftGroupId group) throws IOException {
            return server.getDivision(group).getInfo().getCurrentTerm();
        }
    }

    final RaftGroup group;
    final List<Node> nodes;
    private final long maxMessageBytes;
    private final List<AutoCloseable> clients = new ArrayList<>();

    private TestCluster(RaftGroup group, List<Node> nodes, long maxMessageBytes) {
        this.group = group;
        this.nodes = nodes;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Members whose web layers run and whose Raft servers are built but not started. */
    static TestCluster withWebLayers(int size, Path root, long maxMessageBytes) throws Exception {
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            RaftPeerId id = RaftPeerId.valueOf("n" + i);
            AtomicReference<WebServer> web = new AtomicReference<>();
            PeerTransport transport =
                    PeerTransport.create(settings(maxMessageBytes), () -> web.get().address());
            web.set(
                    new WebServer(
                            webSettings(),
                            transport.routes(Gate.open("raft")),
                            () -> new Readiness(true, Map.of())));
            web.get().start().get(10, TimeUnit.SECONDS);
            nodes.add(new Node(id, transport, web.get(), root.resolve(id.toString())));
        }
        List<RaftPeer> peers =
                nodes.stream()
                        .map(
                                n ->
                                        RaftPeer.newBuilder()
                                                .setId(n.id)
                                                .setAddress(
                                                        n.address().getHostString()
                                                                + ":"
                                                                + n.address().getPort())
                                                .build())
                        .collect(Collectors.toList());
        TestCluster cluster =
                new TestCluster(
                        RaftGroup.valueOf(RaftGroupId.valueOf(UUID.randomUUID()), peers),
                        nodes,
                        maxMessageBytes);
        for (Node node : nodes) {
            cluster.build(node);
        }
        return cluster;
    }

    /** Builds a new server and state machine for {@code node} on its existing storage. */
    private void build(Node node) throws IOException {
        RaftProperties properties = properties(node.dir);
        Parameters parameters = new Parameters();
        node.transport.configure(properties, parameters);
        node.machine = new AppliedLog();
        node.server =
                RaftServer.newBuilder()
                        .setServerId(node.id)
                        .setGroup(group)
                        .setStateMachine(node.machine)
                        .setProperties(properties)
                        .setParameters(parameters)
                        .setOption(RaftStorage.StartupOption.RECOVER)
                        .build();
    }

    /** Starts {@code node} again after its server was closed, as a restarted process would. */
    void restart(Node node) throws IOException {
        build(node);
        node.server.start();
    }

    /** A running cluster with a leader. */
    static TestCluster start(int size, Path root, long maxMessageBytes) throws Exception {
        TestCluster cluster = withWebLayers(size, root, maxMessageBytes);
        try {
            cluster.startServers();
            cluster.awaitLeader();
            return cluster;
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    static TransportSettings settings(long maxMessageBytes) {
        return new TransportSettings(
                SECRET, Duration.ofSeconds(5), maxMessageBytes, Duration.ofSeconds(2));
    }

    void startServers() throws IOException {
        for (Node node : nodes) {
            node.server.start();
        }
    }

    /** Waits until exactly one running member leads, and returns it. */
    Node awaitLeader() {
        AtomicReference<Node> leader = new AtomicReference<>();
        await().atMost(WAIT)
                .until(
                        () -> {
                            List<Node> leaders =
                                    nodes.stream()
                                            .filter(n -> n.isLeader(group.getGroupId()))
                                            .toList();
                            leader.set(leaders.size() == 1 ? leaders.get(0) : null);
                            return leader.get() != null;
                        });
        return leader.get();
    }

    /** Waits until a running member other than {@code old} leads, and returns it. */
    Node awaitNewLeader(Node old) {
        AtomicReference<Node> leader = new AtomicReference<>();
        await().atMost(WAIT)
                .until(
                        () -> {
                            Optional<Node> other =
                                    nodes.stream()
                                            .filter(n -> n != old && n.isLeader(group.getGroupId()))
                                            .findFirst();
                            leader.set(other.orElse(null));
                            return other.isPresent();
                        });
        return leader.get();
    }

    List<Node> others(Node node) {
        return nodes.stream().filter(n -> n != node).toList();
    }

    /** A client sending through {@code via}'s transport, as the controller of that member would. */
    RaftClient client(Node via) {
        return client(via, null);
    }

    /** A client that first believes {@code presumedLeader} leads. */
    RaftClient client(Node via, RaftPeerId presumedLeader) {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        Parameters parameters = new Parameters();
        via.transport.configure(properties, parameters);
        RaftClient.Builder builder =
                RaftClient.newBuilder()
                        .setClientId(ClientId.randomId())
                        .setRaftGroup(group)
                        .setProperties(properties)
                        .setParameters(parameters)
                        .setRetryPolicy(
                                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                                        150, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)));
        if (presumedLeader != null) {
            builder.setLeaderId(presumedLeader);
        }
        RaftClient client = builder.build();
        clients.add(client);
        return client;
    }

    long maxMessageBytes() {
        return maxMessageBytes;
    }

    @Override
    public void close() {
        for (AutoCloseable client : clients) {
            closeQuietly(client);
        }
        for (Node node : nodes) {
            if (node.server != null) {
                closeQuietly(node.server);
            }
        }
        for (Node node : nodes) {
            node.transport.close();
            node.web.stop();
        }
    }

    private static RaftProperties properties(Path dir) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(2, TimeUnit.SECONDS));
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf("64KB"));
        // Small segments and purging up to each snapshot, so that a snapshot can replace the log.
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("1MB"));
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, 1);
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        return p;
    }

    private static WebSettings webSettings() {
        return new WebSettings(
                "127.0.0.1",
                0,
                2,
                8,
                1 << 20,
                16 * 1024,
                Duration.ofSeconds(10),
                Duration.ofMinutes(1),
                Duration.ofSeconds(1),
                Map.of());
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // Best effort: the test's own assertions already ran.
        }
    }
}
