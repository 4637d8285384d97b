package io.capstan.etcd;

import static org.awaitility.Awaitility.await;

import io.capstan.raft.GrpcTransportBinding;
import io.capstan.raft.KeyspaceNode;
import io.capstan.raft.LocalKeyspaceNode;
import io.capstan.raft.MemberAdmin;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftNode;
import io.capstan.raft.RaftSettings;
import io.capstan.web.Gate;
import io.capstan.web.Readiness;
import io.capstan.web.WebServer;
import io.capstan.web.WebSettings;
import io.etcd.jetcd.Client;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Raft group in this JVM with the etcd API on every running member, wired as the daemon wires it:
 * a real {@link RaftNode} over Ratis gRPC on loopback, an {@link EtcdApi}, an {@link ApiServer} on
 * an ephemeral port and a {@link WebServer} (ephemeral port) serving the JSON gateway. Clients
 * (jetcd, raw gRPC channels) are made on demand and closed with the cluster. Members are addressed
 * by index. Not thread-safe: one test thread drives it.
 *
 * <p>{@link #local} makes instead one member on a {@link LocalKeyspaceNode}, the same API and
 * servers over a keyspace without Raft, for tests that are not about replication: it is the leader,
 * and has no followers.
 */
final class EtcdCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdCluster.class);
    static final Duration WAIT = Duration.ofSeconds(30);

    /** Small enough that tests cross them cheaply. */
    static final ApiLimits LIMITS = new ApiLimits(64 * 1024, 8, 8);

    /**
     * Cheap hashes, short tokens (tests cross their expiry), and logins as fast as tests make them.
     */
    static final AuthSettings AUTH = new AuthSettings(Duration.ofSeconds(3), 4, 1000);

    private final List<RaftSettings> settings = new ArrayList<>();
    private final List<Member> members = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();
    private final Map<Integer, Client> jetcdClients = new HashMap<>();
    private final Map<Integer, ManagedChannel> channels = new HashMap<>();
    private final Path root;
    private final UUID group = UUID.randomUUID();
    private final Duration requestTimeout;
    private final AuthSettings auth;

    /** One running member and what serves it. */
    private record Member(
            KeyspaceNode node,
            Supplier<CompletableFuture<Void>> stopNode,
            EtcdApi api,
            ApiServer server,
            WebServer web,
            ExecutorService executor) {}

    /** A cluster of one member without Raft (see the class comment). */
    static EtcdCluster local(Path root, AuthSettings auth) throws IOException {
        return new EtcdCluster(root, 0, 0, Duration.ofSeconds(3), auth).startLocal();
    }

    private EtcdCluster startLocal() throws IOException {
        RaftSettings member =
                memberSettings("n0", List.of(new Peer("n0", "127.0.0.1:" + freePort()))).build();
        settings.add(member);
        LocalKeyspaceNode node = LocalKeyspaceNode.start(member, Clock.systemUTC());
        Member served =
                serve(member, node, node.admin(), () -> CompletableFuture.runAsync(node::close));
        served.server()
                .start()
                .thenCompose(bound -> served.web().start())
                .orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS)
                .join();
        return this;
    }

    /**
     * Builds {@code size} members and starts the first {@code started} of them (fewer than a
     * majority never elect a leader).
     */
    EtcdCluster(Path root, int size, int started, Duration requestTimeout) throws IOException {
        this(root, size, started, requestTimeout, AUTH);
    }

    /** As above, with etcd Auth configured by {@code auth}. */
    EtcdCluster(Path root, int size, int started, Duration requestTimeout, AuthSettings auth)
            throws IOException {
        this.root = root;
        this.requestTimeout = requestTimeout;
        this.auth = auth;
        List<Peer> peers = new ArrayList<>();
        for (int port : freePorts(size)) {
            peers.add(new Peer("n" + peers.size(), "127.0.0.1:" + port));
        }
        for (Peer peer : peers) {
            settings.add(memberSettings(peer.id(), peers).build());
        }
        try {
            List<CompletableFuture<Void>> starting = new ArrayList<>();
            for (int i = 0; i < started; i++) {
                starting.add(startMember(i));
            }
            starting.forEach(f -> f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private RaftSettings.Builder memberSettings(String name, List<Peer> peers) {
        return RaftSettings.builder(name, peers, group, root.resolve(name))
                .electionTimeout(Duration.ofMillis(600), Duration.ofMillis(1200))
                .requestTimeout(requestTimeout)
                .leaseCheckInterval(Duration.ofMillis(100));
    }

    /** A free loopback port, for the peer URL of a member to add and then {@link #startJoining}. */
    static int freePort() throws IOException {
        return freePorts(1).get(0);
    }

    /**
     * Starts one more member, named {@code name}, with its peer transport on {@code peerPort}; it
     * joins the running cluster (which must have added it) as the daemon does with {@code
     * initial-cluster-state = existing}. Every earlier member must be running.
     *
     * @return its index
     */
    int startJoining(String name, int peerPort) {
        List<Peer> peers = new ArrayList<>(settings.get(0).peers());
        peers.add(new Peer(name, "127.0.0.1:" + peerPort));
        settings.add(memberSettings(name, peers).joinExisting(true).build());
        int index = settings.size() - 1;
        startMember(index).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        return index;
    }

    private CompletableFuture<Void> startMember(int index) {
        RaftSettings member = settings.get(index);
        RaftNode node = new RaftNode(member, new GrpcTransportBinding(), Clock.systemUTC());
        Member served = serve(member, node, node.admin(), node::stop);
        // Published as the daemon does, once the API port is known.
        return node.start()
                .thenCompose(v -> served.server().start())
                .thenAccept(bound -> node.publish(List.of("http://127.0.0.1:" + bound.getPort())))
                .thenCompose(v -> served.web().start())
                .thenApply(v -> null);
    }

    /**
     * The API of {@code node} with its gRPC listener and gateway, not started yet; one more member.
     */
    private Member serve(
            RaftSettings member,
            KeyspaceNode node,
            MemberAdmin admin,
            Supplier<CompletableFuture<Void>> stopNode) {
        ExecutorService executor =
                Executors.newFixedThreadPool(
                        4,
                        r -> {
                            Thread thread = new Thread(r, "etcd-api-" + member.nodeId());
                            thread.setDaemon(true);
                            return thread;
                        });
        EtcdApi api = new EtcdApi(node, admin, member, LIMITS, auth, executor);
        ApiServer server =
                new ApiServer(
                        "127.0.0.1",
                        0,
                        LIMITS,
                        api.services(),
                        api::endStreams,
                        executor,
                        Duration.ofSeconds(2));
        WebServer web =
                new WebServer(
                        WebSettings.defaults().withPort(0),
                        api.gatewayRoutes(Gate.open("api")),
                        () -> new Readiness(true, Map.of()));
        Member served = new Member(node, stopNode, api, server, web, executor);
        members.add(served);
        return served;
    }

    /** Reserves ports by binding them all at once, then releases them for the members to bind. */
    private static List<Integer> freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                socket.setReuseAddress(true);
                sockets.add(socket);
            }
            return sockets.stream().map(ServerSocket::getLocalPort).toList();
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    int running() {
        return members.size();
    }

    /**
     * Stops member {@code index}'s gRPC listener as a stopping daemon does, which ends its open
     * streams and waits (gateway ones included); its Raft member and web server keep running.
     */
    void stopApi(int index) {
        members.get(index).server().stop();
    }

    KeyspaceNode node(int index) {
        return members.get(index).node();
    }

    /**
     * Stops member {@code index}'s node (Raft, or the local keyspace); its API servers keep
     * running.
     */
    CompletableFuture<Void> stopNode(int index) {
        return members.get(index).stopNode().get();
    }

    RaftSettings settings(int index) {
        return settings.get(index);
    }

    InetSocketAddress apiAddress(int index) {
        return members.get(index).server().address();
    }

    InetSocketAddress webAddress(int index) {
        return members.get(index).web().address();
    }

    /** The etcd member id of a member the cluster was formed with. */
    long memberId(int index) {
        return io.capstan.raft.Member.initialId(
                settings.get(index).groupId(), settings.get(index).nodeId());
    }

    long clusterId() {
        return io.capstan.raft.Member.clusterId(settings.get(0).groupId());
    }

    /** Waits until every running member agrees on one leader, and returns its index. */
    int awaitLeader() {
        int[] leader = {-1};
        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(50))
                .until(
                        () -> {
                            Set<String> seen = new HashSet<>();
                            String leaderId = null;
                            for (int i = 0; i < running(); i++) {
                                NodeStatus status = node(i).status();
                                seen.add(status.leaderId().orElse(""));
                                if (status.role() == NodeStatus.Role.LEADER) {
                                    leaderId = status.nodeId();
                                    leader[0] = i;
                                }
                            }
                            return leaderId != null && seen.size() == 1 && seen.contains(leaderId);
                        });
        return leader[0];
    }

    /** The index of a running member that is not the leader. */
    int follower() {
        if (running() < 2) {
            throw new IllegalStateException(
                    "a cluster of " + running() + " member has no follower");
        }
        int leader = awaitLeader();
        return leader == 0 ? 1 : 0;
    }

    /** The member a test role names. */
    int member(Role role) {
        return role == Role.LEADER ? awaitLeader() : follower();
    }

    /** The etcd endpoint of member {@code index}, as clients name it. */
    String endpoint(int index) {
        return "http://127.0.0.1:" + apiAddress(index).getPort();
    }

    /**
     * A jetcd client talking only to member {@code index}, the same one each time; closed with the
     * cluster.
     */
    Client jetcd(int index) {
        return jetcdClients.computeIfAbsent(
                index,
                i -> {
                    Client client = Client.builder().endpoints(endpoint(i)).build();
                    clients.add(client);
                    return client;
                });
    }

    /**
     * A plaintext gRPC channel to member {@code index}, the same one each time; closed with the
     * cluster.
     */
    ManagedChannel channel(int index) {
        return channels.computeIfAbsent(
                index,
                i -> {
                    ManagedChannel channel =
                            NettyChannelBuilder.forAddress("127.0.0.1", apiAddress(i).getPort())
                                    .usePlaintext()
                                    .build();
                    clients.add(
                            () -> {
                                channel.shutdownNow();
                                channel.awaitTermination(10, TimeUnit.SECONDS);
                            });
                    return channel;
                });
    }

    @Override
    public void close() {
        for (AutoCloseable client : clients) {
            try {
                client.close();
            } catch (Exception e) {
                LOG.warn("closing a test client failed", e);
            }
        }
        clients.clear();
        jetcdClients.clear();
        channels.clear();
        List<CompletableFuture<Void>> stopping = new ArrayList<>();
        for (Member member : members) {
            member.server().stop();
            member.web().stop();
            stopping.add(member.stopNode().get());
        }
        stopping.forEach(f -> f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join());
        members.forEach(member -> member.executor().shutdownNow());
        members.clear();
    }

    /** Which member a test talks to. */
    enum Role {
        LEADER,
        FOLLOWER
    }
}
