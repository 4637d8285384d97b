package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SettingsProblemsTest {

    @TempDir Path dir;

    private List<Problem> problemsOf(String hocon) {
        return problems(Optional.of(write(dir, "bad.conf", hocon)), Map.of());
    }

    @Test
    void portOutOfRangeNamesKeyValueRangeAndLine() {
        List<Problem> problems = problemsOf("capstan.web.port = 70000\n");

        Problem p =
                assertProblem(
                        problems,
                        "capstan.web.port",
                        "70000",
                        "must be a port number 0..65535",
                        "bad.conf:1");
        assertEquals(1, problems.size(), describe(problems));
        assertTrue(
                p.toString().startsWith("capstan.web.port = 70000: must be a port number 0..65535"),
                p.toString());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
            capstan.api.port                      | -1           | -1              | must be a port number 0..65535
            capstan.api.port                      | "http"       | "http"          | must be a port number 0..65535
            capstan.api.port                      | 2379.5       | 2379.5          | must be a port number 0..65535
            capstan.api.max-watches-per-stream    | 0            | 0               | must be an integer 1..1000000
            capstan.raft.grpc-port                | 65536        | 65536           | must be a port number 0..65535
            capstan.web.io-threads                | 0            | 0               | must be an integer 1..1024
            capstan.web.admission.gateway.max-in-flight | 0      | 0               | must be an integer 1..1000000
            capstan.web.admission.admin.max-queued | -1          | -1              | must be an integer 0..1000000
            capstan.api.admission.grpc.max-queue-wait | 0s       | "0s"            | must be a positive duration
            capstan.web.max-body-bytes            | "lots"       | "lots"          | must be a positive size, e.g. 2MiB
            capstan.web.max-body-bytes            | 0            | 0               | must be a positive size, e.g. 2MiB
            capstan.web.max-header-bytes          | 3GiB         | "3GiB"          | must be a positive size below 2GiB
            capstan.web.idle-timeout              | 0s           | "0s"            | must be a positive duration
            capstan.lifecycle.start-timeout       | -5s          | "-5s"           | must be a positive duration
            capstan.lifecycle.stop-timeout        | "soon"       | "soon"          | must be a positive duration
            capstan.web.request-parse-timeout     | 30d          | "30d"           | must be a positive duration up to 24d
            capstan.web.drain-timeout             | -1s          | "-1s"           | must be a zero or positive duration
            capstan.node.id                       | "Node_1"     | "Node_1"        | must match [a-z0-9-]+
            capstan.node.host                     | "my host"    | "my host"       | must be a host name or IP address
            capstan.node.data-dir                 | ""           | ""              | must be a file system path
            capstan.raft.transport                | "netty"      | "netty"         | must be one of: web, grpc
            capstan.raft.group-id                 | "cluster-1"  | "cluster-1"     | must be a UUID
            capstan.raft.peers                    | "n1=a:1"     | "n1=a:1"        | must be a list [ ... ]
            capstan.web.port                      | [7480]       | [7480]          | must be a number
            capstan.lifecycle                     | 5            | 5               | must be a block of settings { start-timeout, stop-timeout }
            """)
    void eachKindOfBadValueIsReportedWithKeyValueAndWhatIsAllowed(
            String key, String written, String shown, String allowed) {
        List<Problem> problems = problemsOf(key + " = " + written + "\n");

        assertProblem(problems, key, shown, allowed, "bad.conf:1");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void nullValueIsReportedAsMissing() {
        List<Problem> problems = problemsOf("capstan.api.port = null\n");

        assertProblem(
                problems, "capstan.api.port", null, "missing", "must be a port number 0..65535");
    }

    @Test
    void everyBadValueIsReportedAtOnce() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan {
                  web.port = 70000
                  web.idle-timeout = "never"
                  api.port = "x"
                  node.id = "N1"
                  raft.transport = "udp"
                  web.prot = 7480
                }
                """);

        assertEquals(6, problems.size(), describe(problems));
        assertProblem(problems, "capstan.web.port", "70000", "0..65535", "bad.conf:2");
        assertProblem(
                problems,
                "capstan.web.idle-timeout",
                "\"never\"",
                "positive duration",
                "bad.conf:3");
        assertProblem(problems, "capstan.api.port", "\"x\"", "0..65535", "bad.conf:4");
        assertProblem(problems, "capstan.node.id", "\"N1\"", "[a-z0-9-]+", "bad.conf:5");
        assertProblem(problems, "capstan.raft.transport", "\"udp\"", "web, grpc", "bad.conf:6");
        assertProblem(
                problems,
                "capstan.web.prot",
                "7480",
                "unknown key; did you mean capstan.web.port?");
    }

    @Test
    void anAdmissionBudgetNoModuleDeclaresIsAnUnknownKey() {
        List<Problem> problems = problemsOf("capstan.web.admission.gatway.max-in-flight = 10\n");

        assertProblem(
                problems,
                "capstan.web.admission.gatway.max-in-flight",
                "10",
                "unknown key; did you mean capstan.web.admission.gateway.max-in-flight?");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void unknownKeysAreNamedWithOrWithoutASuggestion() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.raft.peer = []
                capstan.metrics.enabled = true
                other.library.setting = 1
                """);

        assertProblem(
                problems,
                "capstan.raft.peer",
                "[]",
                "unknown key; did you mean capstan.raft.peers?");
        assertProblem(
                problems, "capstan.metrics.enabled", "true", "unknown key; no module declares it");
        assertEquals(
                2,
                problems.size(),
                "keys outside capstan. belong to someone else: " + describe(problems));
    }

    @Test
    void wrongShapeIsReportedOnceNotOncePerMissingChild() {
        List<Problem> problems = problemsOf("capstan.web = 5\n");

        assertEquals(1, problems.size(), describe(problems));
        assertProblem(problems, "capstan.web", "5", "must be a block of settings {", "port");
    }

    @Test
    void badEnvironmentValueNamesTheVariable() {
        List<Problem> problems =
                problems(
                        Optional.empty(),
                        Map.of("CAPSTAN_WEB_PORT", "70000", "CAPSTAN_NODE_ID", "Bad!"));

        assertProblem(
                problems,
                "capstan.web.port",
                "\"70000\"",
                "must be a port number 0..65535",
                "from environment variable CAPSTAN_WEB_PORT");
        assertProblem(
                problems,
                "capstan.node.id",
                "\"Bad!\"",
                "must match [a-z0-9-]+",
                "from environment variable CAPSTAN_NODE_ID");
    }

    @Test
    void missingConfigFileNamesThePath() {
        Path missing = dir.resolve("nope.conf");

        List<Problem> problems = problems(Optional.of(missing), Map.of());

        assertEquals(
                List.of(new Problem("--config", Optional.of(missing.toString()), "no such file")),
                problems);
    }

    @Test
    void directoryAsConfigFileIsRefused() {
        List<Problem> problems = problems(Optional.of(dir), Map.of());

        assertProblem(problems, "--config", dir.toString(), "not a regular file");
    }

    @Test
    void unparsableConfigFileNamesThePathAndLine() throws Exception {
        Path file =
                write(dir, "broken.conf", "capstan.web.port = 7480\ncapstan.api.port = = 2379\n");

        List<Problem> problems = problems(Optional.of(file), Map.of());

        assertProblem(problems, "--config", file.toString(), "cannot be parsed", "broken.conf: 2");
        assertTrue(Files.exists(file));
    }

    @Test
    void unresolvableSubstitutionIsAProblemNotACrash() {
        List<Problem> problems = problemsOf("capstan.api.port = ${capstan.no.such.key}\n");

        assertProblem(problems, "substitution", null, "capstan.no.such.key");
    }

    @Test
    void portsOfOneNodeMustNotClash() {
        List<Problem> problems =
                problemsOf(
                        """
                capstan.web.port = 7480
                capstan.api.port = 7480
                capstan.raft.transport = grpc
                capstan.raft.grpc-port = 7480
                """);

        assertProblem(
                problems, "capstan.api.port", "7480", "must differ from capstan.web.port (7480)");
        assertProblem(
                problems, "capstan.raft.grpc-port", "7480", "must differ from capstan.web.port");
        assertEquals(2, problems.size(), describe(problems));
    }

    @Test
    void ephemeralPortsMayRepeat() {
        Settings s =
                ConfigFiles.load(
                        write(
                                dir,
                                "zero.conf",
                                """
                capstan.web.port = 0
                capstan.api.port = 0
                capstan.raft.transport = grpc
                capstan.raft.grpc-port = 0
                capstan.raft.peers = ["n1=127.0.0.1:7491"]
                """),
                        Map.of());

        assertEquals(0, s.web().port());
        assertEquals(0, s.api().port());
        assertEquals(0, s.cluster().grpcPort());
    }
}
