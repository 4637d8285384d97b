package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.controller.systemd.NotifyReceiver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capstan serve} as systemd runs a {@code Type=notify} unit with {@code WatchdogSec=2s}: the
 * process is given {@code NOTIFY_SOCKET} and {@code WATCHDOG_USEC}, and a real AF_UNIX datagram
 * socket stands where systemd's is.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SystemdNotifyProcessTest {
    private static final Duration START = Duration.ofSeconds(60);
    private static final Pattern READY =
            Pattern.compile(
                    "READY=1\nMAINPID=(\\d+)\nSTATUS=raft (follower|candidate), no leader, term \\d+");

    @TempDir Path dir;

    @Test
    void firstMemberOfAColdClusterIsReadyPingsTheWatchdogAndStopsCleanly() throws Exception {
        int webPort = DaemonProcess.freePort();
        Path conf = threeMemberConfig(webPort);
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify.sock"));
                DaemonProcess capstan =
                        DaemonProcess.start(
                                dir,
                                Map.of(
                                        "NOTIFY_SOCKET",
                                        systemd.notifySocket(),
                                        "WATCHDOG_USEC",
                                        "2000000"),
                                "serve",
                                "--config",
                                conf.toString())) {
            // n2 and n3 never start: no quorum, no leader, and READY=1 must come all the same.
            List<String> start = systemd.until(m -> m.startsWith("READY=1"), START);
            String ready = start.get(start.size() - 1);
            Matcher matcher = READY.matcher(ready);
            assertTrue(
                    matcher.matches(),
                    "READY=1 with MAINPID and the Raft status, got: "
                            + ready
                            + "\nstderr:\n"
                            + capstan.stderr());
            long mainPid = Long.parseLong(matcher.group(1));
            assertEquals(
                    Optional.of(ProcessHandle.current().pid()),
                    ProcessHandle.of(mainPid)
                            .flatMap(ProcessHandle::parent)
                            .map(ProcessHandle::pid),
                    "MAINPID is the daemon this test started, not a wrapper");
            assertEquals(
                    503,
                    status("http://127.0.0.1:" + webPort + "/health/ready"),
                    "started, not serving: there is no quorum");

            List<String> running =
                    systemd.until(new Counting("WATCHDOG=1", 2), Duration.ofSeconds(30));
            assertTrue(
                    running.stream()
                            .allMatch(m -> m.equals("WATCHDOG=1") || m.startsWith("STATUS=raft ")),
                    running.toString());

            capstan.terminate();
            List<String> stop =
                    systemd.until(m -> m.startsWith("STOPPING=1"), Duration.ofSeconds(30));
            assertEquals("STOPPING=1\nSTATUS=stopping", stop.get(stop.size() - 1));
            assertEquals(0, capstan.awaitExit(Duration.ofSeconds(60)), capstan.stderr());
        }
    }

    /** This member's config in a 3-member cluster whose other members are never started. */
    private Path threeMemberConfig(int webPort) throws Exception {
        Path secret = dir.resolve("cluster.secret");
        Files.writeString(secret, "a-secret-of-at-least-sixteen-bytes");
        Path conf = dir.resolve("n1.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "capstan.node { id = \"n1\", data-dir = \"" + dir.resolve("n1") + "\" }",
                        "capstan.web.port = " + webPort,
                        "capstan.api.port = " + DaemonProcess.freePort(),
                        "capstan.raft {",
                        "  peers = [\"n1=127.0.0.1:"
                                + webPort
                                + "\", \"n2=127.0.0.1:"
                                + DaemonProcess.freePort()
                                + "\", \"n3=127.0.0.1:"
                                + DaemonProcess.freePort()
                                + "\"]",
                        "  secret-file = \"" + secret + "\"",
                        "}"),
                StandardCharsets.UTF_8);
        return conf;
    }

    private static int status(String url) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        return client.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** Accepts the {@code n}th message equal to {@code message}. */
    private static final class Counting implements java.util.function.Predicate<String> {
        private final String message;
        private int left;

        Counting(String message, int n) {
            this.message = message;
            this.left = n;
        }

        @Override
        public boolean test(String m) {
            return m.equals(message) && --left == 0;
        }
    }
}
