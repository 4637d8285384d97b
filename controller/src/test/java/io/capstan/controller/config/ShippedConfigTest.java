package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.secretFile;
import static io.capstan.controller.config.ConfigFiles.secretLine;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.raft.Peer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The files in the repository's conf/ directory bind as they are. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ShippedConfigTest {
    // Maven runs tests in the module directory.
    private static final Path CONF = Path.of("..", "conf");

    @TempDir Path dir;

    /**
     * A file that includes a shipped one and then sets {@code overrides}, as an operator's wrapper
     * would.
     */
    private Path shippedWith(String name, String overrides) {
        String included = CONF.resolve(name).toAbsolutePath().normalize().toString();
        return write(dir, "wrapped-" + name, "include file(\"" + included + "\")\n" + overrides);
    }

    @Test
    void singleNodeDefaultBinds() {
        Settings s = load(CONF.resolve("capstan.conf"), Map.of());

        assertEquals(new NodeSettings("n1", Path.of("./data/n1"), "127.0.0.1"), s.node());
        assertEquals(7480, s.web().port());
        assertEquals(2379, s.api().port());
        assertEquals(List.of(new PeerEntry("n1", "127.0.0.1", 7480)), s.cluster().peers());
        assertEquals(List.of(new Peer("n1", "127.0.0.1:7480")), s.raft().peers());
        assertEquals(Path.of("./data/n1/raft"), s.raft().dataDir());
        assertEquals(Optional.empty(), s.cluster().secretFile());
        assertEquals(ClusterSecret.EPHEMERAL_BYTES, s.transport().secret().length);
    }

    @Test
    void singleNodeDefaultTakesANodeIdFromTheEnvironment() {
        Settings s =
                load(
                        CONF.resolve("capstan.conf"),
                        Map.of("CAPSTAN_NODE_ID", "n9", "CAPSTAN_WEB_PORT", "7489"));

        assertEquals(Path.of("./data/n9"), s.node().dataDir());
        assertEquals(List.of(new PeerEntry("n9", "127.0.0.1", 7489)), s.cluster().peers());
        assertEquals("n9", s.raft().nodeId());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void localClusterMembersBindOnceTheirSecretExists(int n) throws Exception {
        Path secret = secretFile(dir);
        Settings s = load(shippedWith("cluster-n" + n + ".conf", secretLine(secret)), Map.of());

        assertEquals(
                new NodeSettings("n" + n, Path.of("./data/local/n" + n), "127.0.0.1"), s.node());
        assertEquals(7480 + n, s.web().port());
        assertEquals(23790 + n, s.api().port());
        assertEquals(
                List.of(
                        new PeerEntry("n1", "127.0.0.1", 7481),
                        new PeerEntry("n2", "127.0.0.1", 7482),
                        new PeerEntry("n3", "127.0.0.1", 7483)),
                s.cluster().peers());
        assertEquals(
                s.web().port(),
                s.cluster().peers().get(n - 1).port(),
                "the member's own entry points at its web port");
        assertEquals("n" + n, s.raft().nodeId());
        assertEquals(3, s.raft().peers().size());
        assertArrayEquals(
                Files.readString(secret).strip().getBytes(StandardCharsets.US_ASCII),
                s.transport().secret());
    }

    @Test
    void localClusterMemberWithoutItsSecretFileStopsWithThePath() {
        List<Problem> problems = problems(Optional.of(CONF.resolve("cluster-n1.conf")), Map.of());

        // Maven runs tests in controller/, where no local cluster keeps its secret.
        assertProblem(
                problems,
                "capstan.raft.secret-file",
                "\"./data/local/cluster.secret\"",
                Path.of("data/local/cluster.secret").toAbsolutePath().toString(),
                "no such file",
                "16..1024 bytes",
                "cluster-n1.conf:");
        assertEquals(1, problems.size(), describe(problems));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void localClusterMembersBindOverGrpcWhenThePeersNameGrpcPorts(int n) {
        Settings s =
                load(
                        shippedWith(
                                "cluster-n" + n + ".conf",
                                secretLine(secretFile(dir))
                                        + """
                capstan.raft.transport = grpc
                capstan.raft.peers = ["n1=127.0.0.1:7491", "n2=127.0.0.1:7492", "n3=127.0.0.1:7493"]
                """),
                        Map.of());

        assertEquals(ClusterSettings.Transport.GRPC, s.cluster().transport());
        assertEquals(7490 + n, s.cluster().grpcPort());
        assertEquals(new Peer("n" + n, "127.0.0.1:" + (7490 + n)), s.raft().self());
    }
}
