package io.capstan.controller.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class NotifyEnvironmentTest {
    private static final long PID = 4242;

    @Test
    void withoutNotifySocketNothingIsSentEvenWithAWatchdog() {
        NotifyEnvironment env = NotifyEnvironment.parse(Map.of("WATCHDOG_USEC", "2000000"), PID);
        assertEquals(new NotifyEnvironment(Optional.empty(), Optional.empty(), List.of()), env);
        assertEquals(
                Optional.empty(),
                NotifyEnvironment.parse(Map.of("NOTIFY_SOCKET", "  "), PID).socket());
    }

    @Test
    void pathAndAbstractSockets() {
        assertEquals(
                Optional.of(new NotifyAddress("/run/systemd/notify", false)),
                NotifyEnvironment.parse(Map.of("NOTIFY_SOCKET", "/run/systemd/notify"), PID)
                        .socket());
        NotifyAddress named =
                NotifyEnvironment.parse(Map.of("NOTIFY_SOCKET", "@capstan/notify"), PID)
                        .socket()
                        .orElseThrow();
        assertEquals(new NotifyAddress("capstan/notify", true), named);
        assertEquals("@capstan/notify", named.toString());
    }

    @Test
    void unusableSocketIsReportedAndNothingIsSent() {
        for (String value : List.of("vsock:2:1234", "relative/notify", "@")) {
            NotifyEnvironment env =
                    NotifyEnvironment.parse(
                            Map.of("NOTIFY_SOCKET", value, "WATCHDOG_USEC", "2000000"), PID);
            assertEquals(Optional.empty(), env.socket(), value);
            assertEquals(Optional.empty(), env.watchdogInterval(), value);
            assertEquals(1, env.problems().size(), value);
            assertTrue(env.problems().get(0).contains(value), env.problems().toString());
        }
    }

    @Test
    void watchdogPingsAtHalfTheTimeout() {
        assertEquals(
                Optional.of(Duration.ofSeconds(1)), interval(Map.of("WATCHDOG_USEC", "2000000")));
        assertEquals(
                Optional.of(Duration.ofSeconds(15)),
                interval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", Long.toString(PID))));
        assertEquals(
                Optional.of(Duration.ofMillis(1)),
                interval(Map.of("WATCHDOG_USEC", "3")),
                "no faster than a millisecond");
        assertEquals(Optional.empty(), interval(Map.of()));
    }

    @Test
    void watchdogOfAnotherProcessIsNotOurs() {
        NotifyEnvironment env = parse(Map.of("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "4243"));
        assertEquals(Optional.empty(), env.watchdogInterval());
        assertEquals(List.of(), env.problems());
        assertTrue(env.socket().isPresent(), "notifications still go out");
    }

    @Test
    void badWatchdogValuesTurnItOffWithAReason() {
        for (Map<String, String> bad :
                List.of(
                        Map.of("WATCHDOG_USEC", "soon"),
                        Map.of("WATCHDOG_USEC", "0"),
                        Map.of("WATCHDOG_USEC", "-5"),
                        Map.of("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "me"))) {
            NotifyEnvironment env = parse(bad);
            assertEquals(Optional.empty(), env.watchdogInterval(), bad.toString());
            assertEquals(1, env.problems().size(), bad.toString());
        }
    }

    private static Optional<Duration> interval(Map<String, String> watchdog) {
        return parse(watchdog).watchdogInterval();
    }

    private static NotifyEnvironment parse(Map<String, String> watchdog) {
        Map<String, String> env = new java.util.HashMap<>(watchdog);
        env.put("NOTIFY_SOCKET", "/run/systemd/notify");
        return NotifyEnvironment.parse(env, PID);
    }
}
