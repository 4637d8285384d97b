package io.capstan.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.raft.Peer;
import io.capstan.raft.RaftSettings;
import io.capstan.transport.TransportSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A module's own refusal, which the binder's checks should have caught first, still names
 * configuration keys.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RejectionsTest {
    private static final UUID GROUP = UUID.fromString("58158864-8ad7-4ab9-8926-1570374bf016");

    private static RaftSettings.Builder raft() {
        return RaftSettings.builder(
                "n1", List.of(new Peer("n1", "127.0.0.1:7480")), GROUP, Path.of("data"));
    }

    private static Problem raftRefusal(Runnable build) {
        return Rejections.problem(
                "capstan.raft",
                RaftTuning.KEYS_BY_NAME,
                assertThrows(IllegalArgumentException.class, build::run));
    }

    @Test
    void aRaftFieldBecomesItsKey() {
        Problem p = raftRefusal(() -> raft().snapshotThreshold(0).build());

        assertEquals(
                new Problem(
                        "capstan.raft.snapshot-threshold",
                        Optional.empty(),
                        "capstan.raft.snapshot-threshold must be positive, got 0"),
                p);
    }

    @Test
    void theFirstFieldMentionedNamesTheProblemAndEveryFieldIsRenamed() {
        Problem p =
                raftRefusal(
                        () ->
                                raft().electionTimeout(Duration.ofSeconds(2), Duration.ofSeconds(1))
                                        .build());

        assertEquals("capstan.raft.election-timeout-max", p.key());
        assertEquals(
                "capstan.raft.election-timeout-max (PT1S) must exceed capstan.raft.election-timeout-min (PT2S)",
                p.message());
    }

    @Test
    void membershipRefusalsNameTheNodeIdAndPeers() {
        Problem p =
                raftRefusal(
                        () ->
                                RaftSettings.builder(
                                                "n9",
                                                List.of(new Peer("n1", "127.0.0.1:7480")),
                                                GROUP,
                                                Path.of("data"))
                                        .build());

        assertEquals("capstan.node.id", p.key());
        assertEquals("capstan.node.id n9 is not among capstan.raft.peers [n1]", p.message());
    }

    @Test
    void transportKeysAndTheSecretFileAreNamed() {
        IllegalArgumentException shortSecret =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new TransportSettings(
                                        new byte[3],
                                        Duration.ofSeconds(5),
                                        64L << 20,
                                        Duration.ofSeconds(3)));
        assertEquals(
                "capstan.raft.secret-file",
                Rejections.problem("capstan.transport", TransportTuning.KEYS_BY_NAME, shortSecret)
                        .key());

        IllegalArgumentException small =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new TransportSettings(
                                        new byte[32],
                                        Duration.ofSeconds(5),
                                        1,
                                        Duration.ofSeconds(3)));
        Problem p = Rejections.problem("capstan.transport", TransportTuning.KEYS_BY_NAME, small);
        assertEquals("capstan.transport.max-message-bytes", p.key());
        assertEquals(
                true,
                p.message().startsWith("capstan.transport.max-message-bytes must be "),
                p.message());
    }

    @Test
    void aMessageNamingNoFieldFallsBackToTheBlock() {
        Problem p =
                Rejections.problem(
                        "capstan.web",
                        Map.of(),
                        new IllegalArgumentException("io threads exceed workers"));

        assertEquals(new Problem("capstan.web", Optional.empty(), "io threads exceed workers"), p);
    }
}
