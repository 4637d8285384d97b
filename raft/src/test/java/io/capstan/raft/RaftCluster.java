package io.capstan.raft;

import static org.awaitility.Awaitility.await;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * An in-JVM Raft group for tests: real Ratis servers over real sockets on 127.0.0.1, each member
 * with its own data directory under {@code root}. Members are addressed by index. Not thread-safe:
 * one test thread drives it.
 */
final class RaftCluster implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);

    private final Path root;
    private final TransportBinding transport;
    private final List<RaftSettings> settings = new ArrayList<>();
    private final List<RaftNode> nodes = new ArrayList<>();

    /**
     * @param tune adjusts each member's settings (the defaults here are short test timeouts)
     */
    RaftCluster(
            Path root,
            int size,
            TransportBinding transport,
            UnaryOperator<RaftSettings.Builder> tune)
            throws IOException {
        this.root = root;
        this.transport = transport;
        List<Peer> peers = new ArrayList<>();
        for (int port : freePorts(size)) {
            peers.add(new Peer("n" + peers.size(), "127.0.0.1:" + port));
        }
        UUID group = UUID.randomUUID();
        for (Peer peer : peers) {
            RaftSettings.Builder builder =
                    RaftSettings.builder(peer.id(), peers, group, root.resolve(peer.id()))
                            .electionTimeout(Duration.ofMillis(600), Duration.ofMillis(1200))
                            .requestTimeout(Duration.ofSeconds(3))
                            .leaseCheckInterval(Duration.ofMillis(100));
            settings.add(tune.apply(builder).build());
            nodes.add(null);
        }
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

    int size() {
        return settings.size();
    }

    RaftSettings settings(int index) {
        return settings.get(index);
    }

    Path dataDir(int index) {
        return settings.get(index).dataDir();
    }

    RaftNode node(int index) {
        RaftNode node = nodes.get(index);
        if (node == null) {
            throw new IllegalStateException("member " + index + " is not running");
        }
        return node;
    }

    void startAll() {
        List<CompletableFuture<Void>> started = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            started.add(startAsync(i));
        }
        started.forEach(f -> f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join());
    }

    /** Starts member {@code index} afresh on its data directory (recovering what it holds). */
    void start(int index) {
        startAsync(index).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    }

    private CompletableFuture<Void> startAsync(int index) {
        if (nodes.get(index) != null) {
            throw new IllegalStateException("member " + index + " is already running");
        }
        RaftNode node = new RaftNode(settings.get(index), transport, Clock.systemUTC());
        nodes.set(index, node);
        return node.start();
    }

    void stop(int index) {
        node(index).stop().orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
        nodes.set(index, null);
    }

    List<Integer> running() {
        List<Integer> up = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            if (nodes.get(i) != null) {
                up.add(i);
            }
        }
        return up;
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
                            for (int i : running()) {
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

    int anyFollower() {
        int leader = awaitLeader();
        return running().stream().filter(i -> i != leader).findFirst().orElseThrow();
    }

    CommandResult propose(int index, Command command) {
        return node(index).propose(command).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    }

    QueryResult query(int index, Query query, ReadConsistency consistency) {
        return node(index)
                .query(query, consistency)
                .orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS)
                .join();
    }

    Optional<KeyValue> get(int index, String key, ReadConsistency consistency) {
        QueryResult result = query(index, Ops.range(Ops.rangeReq(key, "")), consistency);
        return result.getRange().getKvsList().stream().findFirst();
    }

    /** Waits until every running member has applied the same index and holds the same state. */
    StateDigest awaitConverged() {
        StateDigest[] digest = {null};
        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(50))
                .until(
                        () -> {
                            Set<Long> applied = new HashSet<>();
                            Set<StateDigest> digests = new HashSet<>();
                            for (int i : running()) {
                                NodeStatus status = node(i).status();
                                applied.add(status.appliedIndex());
                                applied.add(status.commitIndex());
                                digests.add(node(i).stateDigest());
                            }
                            digest[0] = digests.iterator().next();
                            return applied.size() == 1 && digests.size() == 1;
                        });
        return digest[0];
    }

    @Override
    public void close() {
        List<CompletableFuture<Void>> stopping = new ArrayList<>();
        for (int i : running()) {
            stopping.add(node(i).stop());
        }
        stopping.forEach(f -> f.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join());
    }

    @Override
    public String toString() {
        return "RaftCluster"
                + settings.stream().map(RaftSettings::peers).findFirst().orElse(List.of())
                + " in "
                + root;
    }
}
