package io.capstan.transport;

import io.capstan.transport.TestCluster.Node;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * Reports round-trip figures of a three-member cluster in one JVM, over the web-layer transport and
 * over Ratis's built-in gRPC transport for comparison. A program, not a test: it asserts nothing.
 * Run it from the module directory after {@code mvn -o -pl transport test-compile}:
 *
 * <pre>
 * mvn -q -o dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.capstan.transport.RoundTripBench
 * </pre>
 */
final class RoundTripBench {

    private static final int INFO_CALLS = 2000;
    private static final int SMALL_WRITES = 1000;
    private static final int ASYNC_WRITES = 10_000;
    private static final int LARGE_WRITES = 20;

    private RoundTripBench() {}

    public static void main(String[] args) throws Exception {
        Path root = Files.createTempDirectory("capstan-bench");
        try (TestCluster web = TestCluster.start(3, root.resolve("web"), 64L << 20)) {
            Node leader = web.awaitLeader();
            RaftClient client = web.client(leader);
            measure(
                    "web (WebSocket)",
                    client,
                    web.others(leader).get(0).id,
                    web.group.getGroupId());
        }
        List<RaftServer> servers = new ArrayList<>();
        RaftGroup group =
                RaftGroup.valueOf(
                        RaftGroupId.valueOf(UUID.randomUUID()),
                        List.of(grpcPeer("g0"), grpcPeer("g1"), grpcPeer("g2")));
        try (RaftClient client = grpcCluster(root.resolve("grpc"), group, servers)) {
            RaftPeerId leader = client.io().send(Message.valueOf("find-leader")).getServerId();
            RaftPeerId follower =
                    group.getPeers().stream()
                            .map(RaftPeer::getId)
                            .filter(id -> !id.equals(leader))
                            .findFirst()
                            .orElseThrow();
            measure("gRPC (Ratis built-in)", client, follower, group.getGroupId());
        } finally {
            for (RaftServer server : servers) {
                server.close();
            }
        }
    }

    private static void measure(
            String name, RaftClient client, RaftPeerId follower, RaftGroupId group)
            throws Exception {
        // Warm up the JIT and the connections.
        for (int i = 0; i < 300; i++) {
            client.io().send(Message.valueOf("warm-" + i));
            client.getGroupManagementApi(follower).info(group);
        }

        long[] info = new long[INFO_CALLS];
        for (int i = 0; i < INFO_CALLS; i++) {
            long start = System.nanoTime();
            client.getGroupManagementApi(follower).info(group);
            info[i] = System.nanoTime() - start;
        }

        long[] writes = new long[SMALL_WRITES];
        Message small = Message.valueOf(ByteString.copyFrom(new byte[100]));
        for (int i = 0; i < SMALL_WRITES; i++) {
            long start = System.nanoTime();
            client.io().send(small);
            writes[i] = System.nanoTime() - start;
        }

        long asyncStart = System.nanoTime();
        List<CompletableFuture<?>> pending = new ArrayList<>(ASYNC_WRITES);
        for (int i = 0; i < ASYNC_WRITES; i++) {
            pending.add(client.async().send(small));
        }
        CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]))
                .get(5, TimeUnit.MINUTES);
        double asyncSeconds = (System.nanoTime() - asyncStart) / 1e9;

        byte[] mib = new byte[1 << 20];
        Arrays.fill(mib, (byte) 'x');
        Message large = Message.valueOf(ByteString.copyFrom(mib));
        long[] larges = new long[LARGE_WRITES];
        for (int i = 0; i < LARGE_WRITES; i++) {
            long start = System.nanoTime();
            client.io().send(large);
            larges[i] = System.nanoTime() - start;
        }

        System.out.printf("%s%n", name);
        System.out.printf("  group-info to a follower (no disk): %s%n", summary(info));
        System.out.printf("  100 B blocking write (replicated, fsync): %s%n", summary(writes));
        System.out.printf(
                "  100 B async writes, %d in flight: %.0f writes/s%n",
                ASYNC_WRITES, ASYNC_WRITES / asyncSeconds);
        System.out.printf("  1 MiB blocking write: %s%n", summary(larges));
    }

    private static String summary(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double mean = Arrays.stream(sorted).average().orElse(0) / 1e6;
        return String.format(
                "mean %.2f ms, p50 %.2f ms, p99 %.2f ms",
                mean, sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6);
    }

    private static RaftPeer grpcPeer(String id) throws IOException {
        return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + freePort()).build();
    }

    private static RaftClient grpcCluster(Path root, RaftGroup group, List<RaftServer> servers)
            throws IOException {
        for (RaftPeer peer : group.getPeers()) {
            RaftProperties p = new RaftProperties();
            RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
            GrpcConfigKeys.Server.setPort(p, Integer.parseInt(peer.getAddress().split(":")[1]));
            RaftServerConfigKeys.setStorageDir(
                    p, List.of(root.resolve(peer.getId().toString()).toFile()));
            RaftServerConfigKeys.Rpc.setTimeoutMin(
                    p, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setTimeoutMax(
                    p, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
            RaftServer server =
                    RaftServer.newBuilder()
                            .setServerId(peer.getId())
                            .setGroup(group)
                            .setStateMachine(new AppliedLog())
                            .setProperties(p)
                            .setParameters(new Parameters())
                            .setOption(RaftStorage.StartupOption.RECOVER)
                            .build();
            server.start();
            servers.add(server);
        }
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        return RaftClient.newBuilder()
                .setClientId(ClientId.randomId())
                .setRaftGroup(group)
                .setProperties(p)
                .build();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
