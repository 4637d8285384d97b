package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.raft.Limits;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftSettings;
import io.capstan.raft.WatchSettings;
import io.capstan.transport.TransportSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The raft module's tuning keys under capstan.raft and the transport's capstan.transport.* keys.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RaftAndTransportKeysTest {

    @TempDir Path dir;

    private List<Problem> problemsOf(String hocon) {
        return problems(Optional.of(write(dir, "bad.conf", hocon)), Map.of());
    }

    @Test
    void everyTuningKeyBinds() {
        Settings s =
                load(
                        write(
                                dir,
                                "tuned.conf",
                                """
                capstan.node.data-dir = "/srv/capstan/n1"
                capstan.raft {
                  election-timeout-min = 300ms
                  election-timeout-max = 900ms
                  request-timeout = 7s
                  snapshot-threshold = 50000
                  snapshots-retained = 4
                  log-entries-kept-after-snapshot = 0
                  log-segment-size = 8MiB
                  lease-check-interval = 250ms
                  limits {
                    max-key-bytes = 4KiB
                    max-value-bytes = 512KiB
                    max-request-bytes = 2MiB
                    max-txn-ops = 64
                    max-lease-ttl-seconds = 86400
                  }
                  watch {
                    buffer-events = 500
                    handoff-revisions = 64
                    catch-up-revisions = 10
                    max-watches = 20
                    progress-interval = 1m
                  }
                }
                capstan.transport {
                  request-timeout = 9s
                  max-message-bytes = 16MiB
                  connect-timeout = 500ms
                }
                """),
                        Map.of());

        RaftSettings raft = s.raft();
        assertEquals("n1", raft.nodeId());
        assertEquals(List.of(new Peer("n1", "127.0.0.1:7480")), raft.peers());
        assertEquals(s.cluster().groupId(), raft.groupId());
        assertEquals(
                Path.of("/srv/capstan/n1/raft"),
                raft.dataDir(),
                "Raft keeps its files in a directory of its own");
        assertEquals(Duration.ofMillis(300), raft.electionTimeoutMin());
        assertEquals(Duration.ofMillis(900), raft.electionTimeoutMax());
        assertEquals(Duration.ofSeconds(7), raft.requestTimeout());
        assertEquals(50_000, raft.snapshotThreshold());
        assertEquals(4, raft.snapshotsRetained());
        assertEquals(0, raft.logEntriesKeptAfterSnapshot());
        assertEquals(8L << 20, raft.logSegmentBytes());
        assertEquals(new WatchSettings(500, 64, 10, 20, Duration.ofMinutes(1)), raft.watch());
        assertEquals(Duration.ofMillis(250), raft.leaseCheckInterval());
        assertEquals(new Limits(4096, 512 * 1024, 2 << 20, 64, 86_400), raft.limits());

        TransportSettings transport = s.transport();
        assertEquals(Duration.ofSeconds(9), transport.requestTimeout());
        assertEquals(16L << 20, transport.maxMessageBytes());
        assertEquals(Duration.ofMillis(500), transport.connectTimeout());
        assertEquals(
                false, s.admin().peerFaults(), "the fault seam's route is off unless asked for");
    }

    @Test
    void faultInjectionTurnsOnWithTheWebTransportOnly() {
        for (String on : List.of("on", "true", "\"on\"")) {
            assertEquals(
                    true,
                    load(
                                    write(
                                            dir,
                                            "faults.conf",
                                            "capstan.transport.fault-injection = " + on + "\n"),
                                    Map.of())
                            .admin()
                            .peerFaults(),
                    on);
        }
        assertEquals(
                false,
                load(
                                write(
                                        dir,
                                        "faults.conf",
                                        "capstan.transport.fault-injection = off\n"),
                                Map.of())
                        .admin()
                        .peerFaults());

        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft.transport = grpc
                capstan.transport.fault-injection = on
                """);

        assertProblem(
                problems,
                "capstan.transport.fault-injection",
                "\"on\"",
                "can be on only with capstan.raft.transport = web",
                "bad.conf:2");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void etcdsLargestLeaseTtlFitsAndTheBoundsOfEachRangeBind() {
        Settings s =
                load(
                        write(
                                dir,
                                "edges.conf",
                                """
                capstan.raft.limits.max-lease-ttl-seconds = 9000000000
                capstan.raft.log-segment-size = 1024
                capstan.raft.limits.max-request-bytes = 64KiB
                capstan.transport.max-message-bytes = 2MiB
                """),
                        Map.of());

        assertEquals(9_000_000_000L, s.raft().limits().maxLeaseTtlSeconds());
        assertEquals(1024, s.raft().logSegmentBytes());
        assertEquals(TransportSettings.MIN_MESSAGE_BYTES, s.transport().maxMessageBytes());
    }

    @Test
    void aPeerMessageMustHoldTheLargestRequest() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft.limits.max-request-bytes = 3MiB
                capstan.transport.max-message-bytes = 4MiB
                """);

        assertProblem(
                problems,
                "capstan.transport.max-message-bytes",
                "\"4MiB\"",
                "must be at least capstan.raft.limits.max-request-bytes (3145728 bytes) plus 1088KiB",
                "bad.conf:2");
        assertEquals(1, problems.size(), describe(problems));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
            capstan.raft.election-timeout-min            | 0s          | "0s"          | must be a positive duration
            capstan.raft.election-timeout-max            | "soon"      | "soon"        | must be a positive duration
            capstan.raft.request-timeout                 | -1s         | "-1s"         | must be a positive duration
            capstan.raft.lease-check-interval            | 25d         | "25d"         | must be a positive duration up to 24d
            capstan.raft.snapshot-threshold              | 0           | 0             | must be a positive whole number of log entries
            capstan.raft.snapshot-threshold              | 1.5         | 1.5           | must be a positive whole number of log entries
            capstan.raft.snapshots-retained              | 0           | 0             | must be a positive whole number of snapshot files
            capstan.raft.snapshots-retained              | 3000000000  | 3000000000    | must be a positive whole number of snapshot files
            capstan.raft.log-entries-kept-after-snapshot | -1          | -1            | must be zero or a positive whole number
            capstan.raft.log-segment-size                | 1023        | 1023          | must be a size of at least 1KiB
            capstan.raft.log-segment-size                | "big"       | "big"         | must be a size of at least 1KiB
            capstan.raft.limits.max-key-bytes            | 0           | 0             | must be a positive size below 2GiB
            capstan.raft.limits.max-value-bytes          | 2GiB        | "2GiB"        | must be a positive size below 2GiB
            capstan.raft.limits.max-request-bytes        | "lots"      | "lots"        | must be a positive size below 2GiB
            capstan.raft.limits.max-txn-ops              | 0           | 0             | must be a positive whole number of operations
            capstan.raft.limits.max-lease-ttl-seconds    | 9000000001  | 9000000001    | must be a whole number of seconds 1..9000000000
            capstan.raft.limits                          | 5           | 5             | must be a block of settings { max-key-bytes,
            capstan.raft.watch.buffer-events             | 0           | 0             | must be a positive whole number
            capstan.raft.watch.progress-interval         | 0s          | "0s"          | must be a positive duration
            capstan.transport.request-timeout            | 0s          | "0s"          | must be a positive duration
            capstan.transport.max-message-bytes          | 1MiB        | "1MiB"        | must be a size from 2MiB to 1GiB
            capstan.transport.max-message-bytes          | 2GiB        | "2GiB"        | must be a size from 2MiB to 1GiB
            capstan.transport.connect-timeout            | "never"     | "never"       | must be a positive duration
            capstan.transport.fault-injection            | maybe       | "maybe"       | must be on or off
            capstan.transport.fault-injection            | 1           | 1             | must be on or off
            capstan.transport                            | []          | []            | must be a block of settings { connect-timeout, fault-injection, max-message-bytes, request-timeout }
            """)
    void eachBadValueNamesItsKeyValueAndWhatIsAllowed(
            String key, String written, String shown, String allowed) {
        List<Problem> problems = problemsOf(key + " = " + written + "\n");

        assertProblem(problems, key, shown, allowed, "bad.conf:1");
        assertEquals(1, problems.size(), describe(problems));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
            2s    | 2s
            2s    | 1500ms
            """)
    void electionTimeoutMaxMustExceedMin(String min, String max) {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft.election-timeout-min = %s
                capstan.raft.election-timeout-max = %s
                """
                                .formatted(min, max));

        assertProblem(
                problems,
                "capstan.raft.election-timeout-max",
                "\"" + max + "\"",
                "must exceed capstan.raft.election-timeout-min (2s)",
                "bad.conf:2");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void transportRequestTimeoutMustCoverRaftsRequestTimeout() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft.request-timeout = 10s
                capstan.transport.request-timeout = 9s
                """);

        assertProblem(
                problems,
                "capstan.transport.request-timeout",
                "\"9s\"",
                "must be at least capstan.raft.request-timeout (10s)",
                "bad.conf:2");
        assertEquals(1, problems.size(), describe(problems));

        Settings equal =
                load(
                        write(
                                dir,
                                "equal.conf",
                                """
                capstan.raft.request-timeout = 10s
                capstan.transport.request-timeout = 10s
                """),
                        Map.of());
        assertEquals(equal.raft().requestTimeout(), equal.transport().requestTimeout());
    }

    @Test
    void everyBadRaftAndTransportValueIsReportedAtOnce() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft {
                  election-timeout-min = 3s
                  election-timeout-max = 1s
                  snapshot-threshold = -5
                  limits.max-txn-ops = "many"
                  log-segment-size = 10
                }
                capstan.transport {
                  max-message-bytes = 1KiB
                  connect-timeout = 0ms
                }
                capstan.web.port = 70000
                """);

        assertProblem(
                problems,
                "capstan.raft.election-timeout-max",
                "\"1s\"",
                "must exceed capstan.raft.election-timeout-min (3s)");
        assertProblem(problems, "capstan.raft.snapshot-threshold", "-5", "positive whole number");
        assertProblem(
                problems,
                "capstan.raft.limits.max-txn-ops",
                "\"many\"",
                "positive whole number of operations");
        assertProblem(problems, "capstan.raft.log-segment-size", "10", "at least 1KiB");
        assertProblem(
                problems, "capstan.transport.max-message-bytes", "\"1KiB\"", "from 2MiB to 1GiB");
        assertProblem(
                problems, "capstan.transport.connect-timeout", "\"0ms\"", "positive duration");
        assertProblem(problems, "capstan.web.port", "70000", "0..65535");
        assertEquals(7, problems.size(), describe(problems));
    }

    @Test
    void misspelledTuningKeysGetASuggestion() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft.election-timout-min = 1s
                capstan.transport.conect-timeout = 1s
                """);

        assertProblem(
                problems,
                "capstan.raft.election-timout-min",
                "\"1s\"",
                "did you mean capstan.raft.election-timeout-min?");
        assertProblem(
                problems,
                "capstan.transport.conect-timeout",
                "\"1s\"",
                "did you mean capstan.transport.connect-timeout?");
        assertEquals(2, problems.size(), describe(problems));
    }

    @Test
    void raftDataDirFollowsTheNodesDataDirFromTheEnvironment() {
        Settings s =
                SettingsLoader.load(
                        Optional.empty(), Map.of("CAPSTAN_DATA_DIR", "/var/lib/capstan"));

        assertEquals(Path.of("/var/lib/capstan"), s.node().dataDir());
        assertEquals(Path.of("/var/lib/capstan/raft"), s.raft().dataDir());
    }
}
