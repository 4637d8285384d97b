package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.adminTokenLine;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.secretFile;
import static io.capstan.controller.config.ConfigFiles.secretLine;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.etcd.AuthSettings;
import io.capstan.etcd.SpaceQuotaSettings;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftSettings;
import io.capstan.web.AdmissionSettings;
import io.capstan.web.WebSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SettingsLoaderTest {

    /** The gRPC API's admission budgets in reference.conf. */
    private static final AdmissionSettings UNARY =
            new AdmissionSettings(256, 1024, Duration.ofSeconds(5));

    private static final AdmissionSettings STREAMS =
            new AdmissionSettings(4096, 0, Duration.ofSeconds(1));
    private static final SpaceQuotaSettings SPACE =
            new SpaceQuotaSettings(128L << 20, Duration.ofSeconds(1));

    @TempDir Path dir;

    @Test
    void referenceDefaultsBindToASingleLoopbackNode() {
        Settings s = SettingsLoader.load(Optional.empty(), Map.of());

        assertEquals(new NodeSettings("n1", Path.of("./data/n1"), "127.0.0.1"), s.node());
        assertEquals(
                WebSettings.defaults(),
                s.web(),
                "every capstan.web key binds to its own component");
        assertEquals(
                new ApiSettings(
                        "127.0.0.1", 2379, 1000, AuthSettings.DEFAULT, UNARY, STREAMS, SPACE),
                s.api());
        assertEquals(
                new LifecycleSettings(Duration.ofSeconds(60), Duration.ofSeconds(30)),
                s.lifecycle());
        assertEquals(
                List.of(new PeerEntry("n1", "127.0.0.1", s.web().port())), s.cluster().peers());
        assertEquals(ClusterSettings.Transport.WEB, s.cluster().transport());
        assertEquals(
                UUID.fromString("58158864-8ad7-4ab9-8926-1570374bf016"), s.cluster().groupId());
        assertEquals(Optional.empty(), s.cluster().secretFile());
        assertEquals(7490, s.cluster().grpcPort());
        assertEquals(
                RaftSettings.builder(
                                "n1",
                                List.of(new Peer("n1", "127.0.0.1:7480")),
                                s.cluster().groupId(),
                                Path.of("./data/n1/raft"))
                        .build(),
                s.raft(),
                "the raft module's reference.conf and its builder agree on every default");
        assertEquals(Duration.ofSeconds(5), s.transport().requestTimeout());
        assertEquals(8L << 20, s.transport().maxMessageBytes());
        assertEquals(Duration.ofSeconds(3), s.transport().connectTimeout());
        assertEquals(
                Optional.empty(),
                s.admin().token(),
                "a web layer on loopback serves the admin API without a token");
        assertEquals(Duration.ofSeconds(10), s.admin().maxLeaderless());
    }

    @Test
    void fileOverridesReference() {
        Path file =
                write(
                        dir,
                        "node.conf",
                        """
                capstan {
                  node { id = "alpha-1", data-dir = "/var/lib/capstan", host = "10.0.0.5" }
                  web { port = 9000, max-body-bytes = 4MiB, idle-timeout = 90s }
                  api.port = 12379
                  lifecycle.start-timeout = 2m
                  raft {
                    peers = ["alpha-1=10.0.0.5:9001", "alpha-2=10.0.0.6:9001", "alpha-3=[fd00::7]:9001"]
                    transport = grpc
                    group-id = "0b7e4c36-53a4-4b8e-9a0e-3c5b1f0e2a11"
                    secret-file = "%s"
                    grpc-port = 9001
                  }
                }
                """
                                        .formatted(secretFile(dir))
                                + adminTokenLine(dir));

        Settings s = load(file, Map.of());

        assertEquals(
                new NodeSettings("alpha-1", Path.of("/var/lib/capstan"), "10.0.0.5"), s.node());
        assertEquals("10.0.0.5", s.web().host(), "web host follows the node's host");
        assertEquals(9000, s.web().port());
        assertEquals(4L * 1024 * 1024, s.web().maxBodyBytes());
        assertEquals(Duration.ofSeconds(90), s.web().idleTimeout());
        assertEquals(
                new ApiSettings(
                        "10.0.0.5", 12379, 1000, AuthSettings.DEFAULT, UNARY, STREAMS, SPACE),
                s.api());
        assertEquals(Duration.ofMinutes(2), s.lifecycle().startTimeout());
        assertEquals(
                Duration.ofSeconds(30),
                s.lifecycle().stopTimeout(),
                "unset keys keep their defaults");
        assertEquals(
                List.of(
                        new PeerEntry("alpha-1", "10.0.0.5", 9001),
                        new PeerEntry("alpha-2", "10.0.0.6", 9001),
                        new PeerEntry("alpha-3", "fd00::7", 9001)),
                s.cluster().peers());
        assertEquals("[fd00::7]:9001", s.cluster().peers().get(2).address());
        assertEquals(ClusterSettings.Transport.GRPC, s.cluster().transport());
        assertEquals(
                UUID.fromString("0b7e4c36-53a4-4b8e-9a0e-3c5b1f0e2a11"), s.cluster().groupId());
        assertEquals(Optional.of(secretFile(dir)), s.cluster().secretFile());
        assertEquals(9001, s.cluster().grpcPort());
        assertEquals(
                List.of(
                        new Peer("alpha-1", "10.0.0.5:9001"),
                        new Peer("alpha-2", "10.0.0.6:9001"),
                        new Peer("alpha-3", "[fd00::7]:9001")),
                s.raft().peers(),
                "Raft gets the members as they are reached over its transport");
        assertEquals("alpha-1", s.raft().nodeId());
        assertEquals(UUID.fromString("0b7e4c36-53a4-4b8e-9a0e-3c5b1f0e2a11"), s.raft().groupId());
        assertEquals(Path.of("/var/lib/capstan/raft"), s.raft().dataDir());
    }

    @Test
    void explicitWebAndApiHostsWinOverTheNodeHost() {
        Path file =
                write(
                        dir,
                        "bind.conf",
                        """
                capstan.node.host = "10.0.0.5"
                capstan.web.host = "0.0.0.0"
                capstan.api.host = "::"
                """
                                + secretLine(secretFile(dir))
                                + adminTokenLine(dir));

        Settings s = load(file, Map.of());

        assertEquals("0.0.0.0", s.web().host());
        assertEquals("::", s.api().host());
        assertEquals(
                List.of(new PeerEntry("n1", "10.0.0.5", s.web().port())),
                s.cluster().peers(),
                "the lone peer is advertised at the node's host, not the wildcard bind address");
    }

    @Test
    void environmentOverridesTheFileEvenForKeysTheFileSets() {
        Path file =
                write(
                        dir,
                        "node.conf",
                        """
                capstan {
                  node { id = "n1", data-dir = "./from-file", host = "127.0.0.1" }
                  web.port = 7481
                  api.port = 23791
                  raft.peers = ["n1=127.0.0.1:7481"]
                }
                """
                                + secretLine(secretFile(dir))
                                + adminTokenLine(dir));
        Map<String, String> env =
                Map.of(
                        "CAPSTAN_NODE_ID", "n2",
                        "CAPSTAN_DATA_DIR", "/srv/capstan/n2",
                        "CAPSTAN_HOST", "10.1.2.3",
                        "CAPSTAN_WEB_PORT", "7482",
                        "CAPSTAN_API_PORT", " 23792 ",
                        "CAPSTAN_PEERS", "n1=10.1.2.2:7481, n2=10.1.2.3:7482,n3=10.1.2.4:7483");

        Settings s = load(file, env);

        assertEquals(new NodeSettings("n2", Path.of("/srv/capstan/n2"), "10.1.2.3"), s.node());
        assertEquals("10.1.2.3", s.web().host());
        assertEquals(7482, s.web().port());
        assertEquals(23792, s.api().port());
        assertEquals(
                List.of(
                        new PeerEntry("n1", "10.1.2.2", 7481),
                        new PeerEntry("n2", "10.1.2.3", 7482),
                        new PeerEntry("n3", "10.1.2.4", 7483)),
                s.cluster().peers());
    }

    @Test
    void environmentOverridesReferenceWithoutAFile() {
        Settings s =
                SettingsLoader.load(
                        Optional.empty(),
                        Map.of(
                                "CAPSTAN_WEB_PORT",
                                "0",
                                "CAPSTAN_API_PORT",
                                "0",
                                "CAPSTAN_PEERS",
                                "n1=127.0.0.1:7481"));

        assertEquals(0, s.web().port());
        assertEquals(0, s.api().port());
        assertEquals(
                List.of(new PeerEntry("n1", "127.0.0.1", 7481)),
                s.cluster().peers(),
                "an ephemeral web port is not compared with this node's peer entry");
    }

    @Test
    void blankAndUnrelatedEnvironmentVariablesOverrideNothing() {
        Settings s =
                SettingsLoader.load(
                        Optional.empty(),
                        Map.of(
                                "CAPSTAN_NODE_ID", "",
                                "CAPSTAN_PEERS", "  ",
                                "CAPSTAN_WEB_PROT", "1",
                                "PATH", "/usr/bin"));

        assertEquals("n1", s.node().id());
        assertEquals(1, s.cluster().peers().size());
    }

    @Test
    void dataDirDefaultFollowsAnOverriddenNodeId() {
        Settings s = SettingsLoader.load(Optional.empty(), Map.of("CAPSTAN_NODE_ID", "n7"));

        assertEquals(Path.of("./data/n7"), s.node().dataDir());
        assertEquals(
                List.of(new PeerEntry("n7", "127.0.0.1", s.web().port())), s.cluster().peers());
    }

    @Test
    void substitutionsInTheFileReadTheInjectedEnvironmentOnly() {
        Path file =
                write(
                        dir,
                        "subst.conf",
                        """
                capstan.api.port = 2379
                capstan.api.port = ${?API_PORT_FOR_TEST}
                capstan.node.data-dir = ${?STATE_DIR_FOR_TEST}"/node"
                """);

        Settings s =
                load(file, Map.of("API_PORT_FOR_TEST", "3379", "STATE_DIR_FOR_TEST", "/state"));
        assertEquals(3379, s.api().port());
        assertEquals(Path.of("/state/node"), s.node().dataDir());

        Settings unset = load(file, Map.of());
        assertEquals(2379, unset.api().port(), "an absent ${?VAR} leaves the earlier value");
    }

    @Test
    void sizesAcceptUnitsAndBareBytes() {
        Path file =
                write(
                        dir,
                        "sizes.conf",
                        """
                capstan.web.max-body-bytes = 2MiB
                capstan.web.max-header-bytes = 16384
                """);

        Settings s = load(file, Map.of());

        assertEquals(2L * 1024 * 1024, s.web().maxBodyBytes());
        assertEquals(16384, s.web().maxHeaderBytes());
    }

    @Test
    void drainTimeoutAloneMayBeZero() {
        Path file = write(dir, "drain.conf", "capstan.web.drain-timeout = 0s\n");

        assertEquals(Duration.ZERO, load(file, Map.of()).web().drainTimeout());
    }

    @Test
    void settingsAreImmutable() {
        Settings s = SettingsLoader.load(Optional.empty(), Map.of());

        assertTrue(isUnmodifiable(s.cluster().peers()));
    }

    private static boolean isUnmodifiable(List<PeerEntry> peers) {
        try {
            peers.add(new PeerEntry("x", "h", 1));
            return false;
        } catch (UnsupportedOperationException expected) {
            return true;
        }
    }
}
