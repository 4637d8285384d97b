package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.secretFile;
import static io.capstan.controller.config.ConfigFiles.secretLine;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.raft.Peer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer entry is a member's Raft address: its web address with transport = web, its gRPC transport
 * address with transport = grpc; this node's own entry must use its own port.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PeerAddressTest {
    private static final String WEB_PEERS = "n1=127.0.0.1:7481,n2=127.0.0.1:7482,n3=127.0.0.1:7483";
    private static final String GRPC_PEERS =
            "n1=127.0.0.1:7491,n2=127.0.0.1:7492,n3=127.0.0.1:7493";

    @TempDir Path dir;

    private Optional<Path> config(String hocon) {
        return Optional.of(write(dir, "node.conf", secretLine(secretFile(dir)) + hocon));
    }

    private static Map<String, String> env(String nodeId, String webPort, String peers) {
        Map<String, String> env = new HashMap<>();
        env.put("CAPSTAN_NODE_ID", nodeId);
        env.put("CAPSTAN_WEB_PORT", webPort);
        env.put("CAPSTAN_PEERS", peers);
        return env;
    }

    @Test
    void withWebTransportEachEntryIsAWebAddressAndRaftGetsThemAsTheyAre() {
        Settings s = ConfigFiles.load(config("").orElseThrow(), env("n2", "7482", WEB_PEERS));

        assertEquals(ClusterSettings.Transport.WEB, s.cluster().transport());
        assertEquals(
                List.of(
                        new Peer("n1", "127.0.0.1:7481"),
                        new Peer("n2", "127.0.0.1:7482"),
                        new Peer("n3", "127.0.0.1:7483")),
                s.raft().peers());
        assertEquals(new Peer("n2", "127.0.0.1:7482"), s.raft().self());
    }

    @Test
    void withWebTransportThisNodesEntryMustUseTheWebPort() {
        List<Problem> problems = problems(config(""), env("n2", "7480", WEB_PEERS));

        assertProblem(
                problems,
                "capstan.raft.peers[1]",
                "\"n2=127.0.0.1:7482\"",
                "this node's own entry must use capstan.web.port (7480)",
                "transport = web",
                "web address",
                "from environment variable CAPSTAN_PEERS");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void anEphemeralWebPortIsNotComparedWithTheEntry() {
        Settings s = ConfigFiles.load(config("").orElseThrow(), env("n1", "0", WEB_PEERS));

        assertEquals(0, s.web().port());
        assertEquals("127.0.0.1:7481", s.raft().self().address());
    }

    @Test
    void withGrpcTransportEachEntryIsAGrpcAddress() {
        Settings s =
                ConfigFiles.load(
                        config(
                                        """
                capstan.raft.transport = grpc
                capstan.raft.grpc-port = 7493
                """)
                                .orElseThrow(),
                        env("n3", "7483", GRPC_PEERS));

        assertEquals(ClusterSettings.Transport.GRPC, s.cluster().transport());
        assertEquals(new Peer("n3", "127.0.0.1:7493"), s.raft().self());
        assertEquals(7483, s.web().port(), "the web port stays the web port");
    }

    @Test
    void withGrpcTransportThisNodesEntryMustUseTheGrpcPortNotTheWebPort() {
        List<Problem> problems =
                problems(
                        config(
                                """
                capstan.raft.transport = grpc
                capstan.raft.grpc-port = 7491
                capstan.raft.peers = ["n1=127.0.0.1:7481", "n2=127.0.0.1:7482"]
                """),
                        Map.of("CAPSTAN_WEB_PORT", "7481"));

        assertProblem(
                problems,
                "capstan.raft.peers[0]",
                "\"n1=127.0.0.1:7481\"",
                "this node's own entry must use capstan.raft.grpc-port (7491)",
                "transport = grpc",
                "gRPC transport address",
                "node.conf:4");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void otherMembersMayUseOtherPorts() {
        Settings s =
                ConfigFiles.load(
                        config("").orElseThrow(),
                        env("n1", "7480", "n1=10.0.0.1:7480,n2=10.0.0.2:9000,n3=10.0.0.3:80"));

        assertEquals(List.of(7480, 9000, 80), s.raft().peers().stream().map(Peer::port).toList());
    }

    @Test
    void withoutPeersThisNodeIsAloneAtThePortOfItsTransport() {
        Settings web = SettingsLoader.load(Optional.empty(), Map.of("CAPSTAN_WEB_PORT", "7485"));
        assertEquals(List.of(new PeerEntry("n1", "127.0.0.1", 7485)), web.cluster().peers());
        assertEquals(new Peer("n1", "127.0.0.1:7485"), web.raft().self());

        Settings grpc =
                load(
                        write(
                                dir,
                                "grpc.conf",
                                """
                capstan.raft.transport = grpc
                capstan.raft.grpc-port = 7495
                """),
                        Map.of());
        assertEquals(List.of(new PeerEntry("n1", "127.0.0.1", 7495)), grpc.cluster().peers());
        assertEquals(new Peer("n1", "127.0.0.1:7495"), grpc.raft().self());
    }

    @Test
    void withoutPeersThePortOfTheTransportMustBeReal() {
        List<Problem> web = problems(Optional.empty(), Map.of("CAPSTAN_WEB_PORT", "0"));
        assertProblem(
                web,
                "capstan.web.port",
                "\"0\"",
                "must be a port number 1..65535 while capstan.raft.peers is empty",
                "capstan.node.host:capstan.web.port",
                "from environment variable CAPSTAN_WEB_PORT");
        assertEquals(1, web.size(), describe(web));

        List<Problem> grpc =
                problems(
                        Optional.of(
                                write(
                                        dir,
                                        "grpc0.conf",
                                        """
                capstan.web.port = 0
                capstan.raft.transport = grpc
                capstan.raft.grpc-port = 0
                """)),
                        Map.of());
        assertProblem(
                grpc,
                "capstan.raft.grpc-port",
                "0",
                "must be a port number 1..65535 while capstan.raft.peers is empty",
                "transport = grpc",
                "grpc0.conf:3");
        assertEquals(
                1, grpc.size(), "with grpc the web port may stay ephemeral: " + describe(grpc));
    }

    @Test
    void anAddressProblemIsReportedWithTheOthers() {
        List<Problem> problems =
                problems(
                        config(
                                """
                capstan.raft.snapshot-threshold = 0
                capstan.api.port = -1
                """),
                        env("n3", "7480", WEB_PEERS));

        assertProblem(
                problems,
                "capstan.raft.peers[2]",
                "\"n3=127.0.0.1:7483\"",
                "must use capstan.web.port (7480)");
        assertProblem(problems, "capstan.raft.snapshot-threshold", "0", "positive");
        assertProblem(problems, "capstan.api.port", "-1", "0..65535");
        assertEquals(3, problems.size(), describe(problems));
    }
}
