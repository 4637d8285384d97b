package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.load;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The files in the repository's conf/ directory bind as they are. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ShippedConfigTest {
    // Maven runs tests in the module directory.
    private static final Path CONF = Path.of("..", "conf");

    @Test
    void singleNodeDefaultBinds() {
        Settings s = load(CONF.resolve("capstan.conf"), Map.of());

        assertEquals(new NodeSettings("n1", Path.of("./data/n1"), "127.0.0.1"), s.node());
        assertEquals(7480, s.web().port());
        assertEquals(2379, s.api().port());
        assertEquals(List.of(new Peer("n1", "127.0.0.1", 7480)), s.raft().peers());
        assertEquals(Optional.empty(), s.raft().secretFile());
    }

    @Test
    void singleNodeDefaultTakesANodeIdFromTheEnvironment() {
        Settings s = load(CONF.resolve("capstan.conf"), Map.of("CAPSTAN_NODE_ID", "n9", "CAPSTAN_WEB_PORT", "0"));

        assertEquals(Path.of("./data/n9"), s.node().dataDir());
        assertEquals(List.of(new Peer("n9", "127.0.0.1", 0)), s.raft().peers());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void localClusterMembersBind(int n) {
        Settings s = load(CONF.resolve("cluster-n" + n + ".conf"), Map.of());

        assertEquals(new NodeSettings("n" + n, Path.of("./data/local/n" + n), "127.0.0.1"), s.node());
        assertEquals(7480 + n, s.web().port());
        assertEquals(23790 + n, s.api().port());
        assertEquals(List.of(
                        new Peer("n1", "127.0.0.1", 7481),
                        new Peer("n2", "127.0.0.1", 7482),
                        new Peer("n3", "127.0.0.1", 7483)),
                s.raft().peers());
        assertEquals(s.web().port(), s.raft().peers().get(n - 1).port(), "the member's own entry points at its web port");
        assertEquals(Optional.of(Path.of("./data/local/cluster.secret")), s.raft().secretFile());
    }
}
