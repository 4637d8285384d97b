package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PeersTest {
    @TempDir Path dir;

    private String secret;

    @BeforeEach
    void writeSecret() {
        secret = ConfigFiles.secretFile(dir).toString();
    }

    private static Map<String, String> clusterEnv(String peers) {
        return Map.of("CAPSTAN_NODE_ID", "n1", "CAPSTAN_WEB_PORT", "7481", "CAPSTAN_PEERS", peers);
    }

    private Optional<Path> withSecret() {
        return Optional.of(write(dir, "secret.conf", ConfigFiles.secretLine(Path.of(secret))));
    }

    @Test
    void capstanPeersParsesCommaSeparatedEntries() {
        Settings s =
                SettingsLoader.load(
                        withSecret(),
                        clusterEnv(
                                "n1=127.0.0.1:7481,n2=localhost:7482 , n3=[::1]:7483,n4=node-4.example.com:80"));

        assertEquals(
                List.of(
                        new PeerEntry("n1", "127.0.0.1", 7481),
                        new PeerEntry("n2", "localhost", 7482),
                        new PeerEntry("n3", "::1", 7483),
                        new PeerEntry("n4", "node-4.example.com", 80)),
                s.cluster().peers());
    }

    @Test
    void capstanPeersReplacesPeersTheFileLists() {
        Path file =
                write(
                        dir,
                        "cluster.conf",
                        """
                capstan.raft.peers = ["n1=127.0.0.1:7481", "n2=127.0.0.1:7482", "n3=127.0.0.1:7483"]
                capstan.raft.secret-file = "%s"
                """
                                .formatted(secret));

        Settings s = SettingsLoader.load(Optional.of(file), clusterEnv("n1=127.0.0.1:7481"));

        assertEquals(List.of(new PeerEntry("n1", "127.0.0.1", 7481)), s.cluster().peers());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '\'',
            textBlock =
                    """
            n1=127.0.0.1:7481,n2                  | 1 | "n2"                  | must be id=host:port, e.g. n1=10.0.0.1:7480
            n1=127.0.0.1:7481,n2=127.0.0.1        | 1 | "n2=127.0.0.1"        | missing :port
            n1=127.0.0.1:7481,n2=127.0.0.1:http   | 1 | "n2=127.0.0.1:http"   | peer port must be 1..65535
            n1=127.0.0.1:7481,n2=127.0.0.1:0      | 1 | "n2=127.0.0.1:0"      | peer port must be 1..65535
            n1=127.0.0.1:7481,n2=127.0.0.1:65536  | 1 | "n2=127.0.0.1:65536"  | peer port must be 1..65535
            n1=127.0.0.1:7481,N2=127.0.0.1:7482   | 1 | "N2=127.0.0.1:7482"   | peer id must match [a-z0-9-]+
            n1=127.0.0.1:7481,=127.0.0.1:7482     | 1 | "=127.0.0.1:7482"     | peer id must match [a-z0-9-]+
            n1=127.0.0.1:7481,n2=:7482            | 1 | "n2=:7482"            | peer host must be a host name or IP address
            n1=127.0.0.1:7481,n2=::1:7482         | 1 | "n2=::1:7482"         | an IPv6 peer address must be [address]:port
            n1=127.0.0.1:7481,n2=[::1]7482        | 1 | "n2=[::1]7482"        | an IPv6 peer address must be [address]:port
            n1=127.0.0.1:7481,,n3=127.0.0.1:7483  | 1 | ""                    | must be id=host:port
            n1=127.0.0.1:7481,                    | 1 | ""                    | must be id=host:port
            """)
    void badCapstanPeersEntriesAreNamedByIndex(
            String peers, int index, String shown, String allowed) {
        List<Problem> problems = problems(withSecret(), clusterEnv(peers));

        assertProblem(
                problems,
                "capstan.raft.peers[" + index + "]",
                shown,
                allowed,
                "from environment variable CAPSTAN_PEERS");
        assertEquals(
                1,
                problems.size(),
                "a bad entry hides no other check and adds none: " + describe(problems));
    }

    @Test
    void everyBadEntryIsReported() {
        List<Problem> problems = problems(withSecret(), clusterEnv("n1,n2=x,n3=y:99999"));

        assertProblem(problems, "capstan.raft.peers[0]", "\"n1\"", "must be id=host:port");
        assertProblem(problems, "capstan.raft.peers[1]", "\"n2=x\"", "missing :port");
        assertProblem(
                problems, "capstan.raft.peers[2]", "\"n3=y:99999\"", "peer port must be 1..65535");
        assertEquals(3, problems.size(), describe(problems));
    }

    @Test
    void peerEntriesInAFileAreNamedByIndexAndLine() {
        Path file =
                write(
                        dir,
                        "peers.conf",
                        """
                capstan.raft.secret-file = "%s"
                capstan.raft.peers = [
                  "n1=127.0.0.1:7481",
                  { id = n2 },
                  "n3=127.0.0.1"
                ]
                """
                                .formatted(secret));

        List<Problem> problems = problems(Optional.of(file), Map.of());

        assertProblem(
                problems,
                "capstan.raft.peers[1]",
                "{\"id\":\"n2\"}",
                "must be a list of id=host:port strings",
                "peers.conf:4");
        assertProblem(
                problems,
                "capstan.raft.peers[2]",
                "\"n3=127.0.0.1\"",
                "missing :port",
                "peers.conf:5");
        assertEquals(2, problems.size(), describe(problems));
    }

    @Test
    void nodeIdMustBeAmongThePeers() {
        List<Problem> problems =
                problems(
                        withSecret(),
                        Map.of(
                                "CAPSTAN_NODE_ID",
                                "n4",
                                "CAPSTAN_PEERS",
                                "n1=127.0.0.1:7481,n2=127.0.0.1:7482,n3=127.0.0.1:7483"));

        assertProblem(
                problems,
                "capstan.node.id",
                "\"n4\"",
                "must be one of the peer ids in capstan.raft.peers: n1, n2, n3",
                "from environment variable CAPSTAN_NODE_ID");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void peerIdsAndAddressesMustBeUnique() {
        Path file =
                write(
                        dir,
                        "dup.conf",
                        """
                capstan.raft.peers = ["n1=127.0.0.1:7481", "n1=127.0.0.1:7482", "n2=127.0.0.1:7481"]
                capstan.raft.secret-file = "%s"
                """
                                .formatted(secret));

        List<Problem> problems = problems(Optional.of(file), Map.of());

        List<String> messages =
                problems.stream()
                        .filter(p -> p.key().equals("capstan.raft.peers"))
                        .map(Problem::message)
                        .toList();
        assertEquals(2, messages.size(), describe(problems));
        assertEquals(
                true,
                messages.get(0).startsWith("peer id n1 is listed 2 times; peer ids must be unique"),
                messages.get(0));
        assertEquals(
                true,
                messages.get(1).startsWith("address 127.0.0.1:7481 is listed for n1, n2"),
                messages.get(1));
        assertEquals(2, problems.size(), describe(problems));
    }

    @Test
    void secretFileMayBeOmittedOnlyByALoneNodeOnLoopback() {
        assertEquals(
                Optional.empty(),
                SettingsLoader.load(Optional.empty(), Map.of("CAPSTAN_HOST", "localhost"))
                        .cluster()
                        .secretFile());
        assertEquals(
                Optional.empty(),
                SettingsLoader.load(Optional.empty(), Map.of("CAPSTAN_HOST", "::1"))
                        .cluster()
                        .secretFile());

        assertProblem(
                problems(Optional.empty(), clusterEnv("n1=127.0.0.1:7481,n2=127.0.0.1:7482")),
                "capstan.raft.secret-file",
                "\"\"",
                "must name the cluster secret file",
                "2 peer(s)");
        assertProblem(
                problems(Optional.empty(), Map.of("CAPSTAN_HOST", "10.0.0.5")),
                "capstan.raft.secret-file",
                "\"\"",
                "only a single-node cluster on loopback",
                "capstan.web.host = 10.0.0.5");
        Path wildcard = write(dir, "wildcard.conf", "capstan.web.host = \"0.0.0.0\"\n");
        assertProblem(
                problems(Optional.of(wildcard), Map.of()),
                "capstan.raft.secret-file",
                "\"\"",
                "capstan.web.host = 0.0.0.0");
        assertProblem(
                problems(Optional.empty(), Map.of("CAPSTAN_HOST", "loopback.example.com")),
                "capstan.raft.secret-file",
                "\"\"",
                "only a single-node cluster on loopback");
    }
}
