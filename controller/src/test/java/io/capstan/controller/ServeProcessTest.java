package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The process contract: exit codes, signals, and what lands on stderr. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ServeProcessTest {
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir Path dir;

    private Map<String, String> env(int webPort) throws Exception {
        return Map.of(
                "CAPSTAN_NODE_ID", "n1",
                "CAPSTAN_DATA_DIR", dir.resolve("data").toString(),
                "CAPSTAN_WEB_PORT", Integer.toString(webPort),
                "CAPSTAN_API_PORT", Integer.toString(DaemonProcess.freePort()));
    }

    @Test
    void servesUntilSigtermThenExitsZero() throws Exception {
        int port = DaemonProcess.freePort();
        try (DaemonProcess capstan = DaemonProcess.start(dir, env(port), "serve")) {
            assertTrue(
                    capstan.awaitHttpStatus(
                            "http://127.0.0.1:" + port + "/health/ready", 200, START),
                    "never became ready; stderr:\n" + capstan.stderr());
            capstan.terminate();
            assertEquals(0, capstan.awaitExit(Duration.ofSeconds(30)), capstan.stderr());
            String log = capstan.stderr();
            assertTrue(log.contains("received SIGTERM, stopping"), log);
            assertTrue(
                    log.lines()
                            .filter(l -> l.contains(" INFO "))
                            .allMatch(l -> l.contains("node=n1")),
                    "every log line carries the node id:\n" + log);
        }
    }

    @Test
    void badConfigurationExitsTwoNamingEveryBadKey() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(env(DaemonProcess.freePort()));
        env.put("CAPSTAN_WEB_PORT", "70000");
        env.put("CAPSTAN_API_PORT", "-1");
        try (DaemonProcess capstan = DaemonProcess.start(dir, env, "serve")) {
            assertEquals(2, capstan.awaitExit(START));
            String err = capstan.stderr();
            assertTrue(err.contains("capstan.web.port") && err.contains("70000"), err);
            assertTrue(err.contains("capstan.api.port") && err.contains("-1"), err);
            assertFalse(
                    err.contains(" started"), "nothing may start on bad configuration:\n" + err);
        }
    }

    @Test
    void missingConfigFileExitsTwo() throws Exception {
        try (DaemonProcess capstan =
                DaemonProcess.start(
                        dir,
                        env(DaemonProcess.freePort()),
                        "serve",
                        "--config",
                        dir.resolve("nope.conf").toString())) {
            assertEquals(2, capstan.awaitExit(START));
            assertTrue(capstan.stderr().contains("nope.conf"), capstan.stderr());
        }
    }

    @Test
    void webPortTakenExitsOneNamingComponentAndPort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            try (DaemonProcess capstan = DaemonProcess.start(dir, env(port), "serve")) {
                assertEquals(1, capstan.awaitExit(START));
                String err = capstan.stderr();
                assertTrue(err.contains("'web'") && err.contains(Integer.toString(port)), err);
                assertFalse(
                        Files.exists(dir.resolve("data").resolve("raft")),
                        "Raft must never start when the web layer failed");
            }
        }
    }

    @Test
    void versionPrintsAndExitsZero() throws Exception {
        try (DaemonProcess capstan = DaemonProcess.start(dir, Map.of(), "version")) {
            assertEquals(0, capstan.awaitExit(START));
            assertTrue(
                    capstan.stdout().matches("capstan \\d+\\.\\d+\\.\\d+.*\\R"), capstan.stdout());
        }
    }

    @Test
    void unknownSubcommandIsUsageErrorTwo() throws Exception {
        try (DaemonProcess capstan = DaemonProcess.start(dir, Map.of(), "frobnicate")) {
            assertEquals(2, capstan.awaitExit(START));
            assertTrue(capstan.stderr().contains("frobnicate"), capstan.stderr());
        }
        assertTrue(Files.isDirectory(dir));
    }
}
