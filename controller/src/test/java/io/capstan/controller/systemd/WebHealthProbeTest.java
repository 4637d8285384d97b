package io.capstan.controller.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.web.Readiness;
import io.capstan.web.WebServer;
import io.capstan.web.WebSettings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The watchdog's health verdict against the real web layer. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebHealthProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Test
    void healthyWhileRunningAndTheWebLayerAnswers() throws Exception {
        // Never ready: the watchdog must not depend on a Raft leader.
        WebServer web =
                new WebServer(
                        WebSettings.defaults().withPort(0),
                        List.of(),
                        () -> new Readiness(false, Map.of()));
        InetSocketAddress address = web.start().get();
        AtomicBoolean running = new AtomicBoolean(true);
        WebHealthProbe probe = new WebHealthProbe(running::get, () -> address);
        try {
            assertEquals(Optional.empty(), verdict(probe));

            running.set(false);
            assertEquals(Optional.of("not every component is running"), verdict(probe));
            running.set(true);
        } finally {
            web.stop();
        }
        Optional<String> stopped = verdict(probe);
        assertTrue(
                stopped.isPresent() && stopped.get().contains("/health/live failed"),
                stopped.toString());
    }

    @Test
    void wildcardBindIsProbedOverLoopback() throws Exception {
        assertEquals(
                URI.create("http://127.0.0.1:7480/health/live"),
                WebHealthProbe.liveUri(
                        "http", new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 7480)));
        assertEquals(
                URI.create("http://10.1.2.3:7480/health/live"),
                WebHealthProbe.liveUri(
                        "http", new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 7480)));
        assertEquals(
                URI.create("http://[0:0:0:0:0:0:0:1]:7480/health/live"),
                WebHealthProbe.liveUri(
                        "http", new InetSocketAddress(InetAddress.getByName("::1"), 7480)));
    }

    private static Optional<String> verdict(WebHealthProbe probe) throws Exception {
        return probe.probe(TIMEOUT)
                .toCompletableFuture()
                .get(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
    }
}
