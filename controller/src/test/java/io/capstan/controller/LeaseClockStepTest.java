package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step of the leader's wall clock neither ends leases early nor extends them, as in etcd, whose
 * lessor times leases with the monotonic clock. A real {@code capstan} process runs with
 * libfaketime (Debian's {@code faketime}, which {@code scripts/install-test-deps.sh} installs)
 * preloaded, which moves its wall clock, and only that, by the offset the test writes into a file.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LeaseClockStepTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration READY = Duration.ofSeconds(90);
    private static final long STEP_SECONDS = 600;

    @TempDir Path dir;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @Test
    void aLeaderWhoseWallClockJumpsAheadKeepsTheLeaseItsTtlGives() throws Exception {
        Path offset = dir.resolve("clock-offset");
        Files.writeString(offset, "+0s\n");
        int web = DaemonProcess.freePort();
        int api = DaemonProcess.freePort();
        Path conf = dir.resolve("n1.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "capstan.node { id = \"n1\", data-dir = \"" + dir.resolve("n1") + "\" }",
                        "capstan.web.port = " + web,
                        "capstan.api.port = " + api));
        Map<String, String> env =
                Map.of(
                        "LD_PRELOAD",
                        libfaketime().toString(),
                        "FAKETIME_TIMESTAMP_FILE",
                        offset.toString(),
                        "FAKETIME_DONT_FAKE_MONOTONIC",
                        "1",
                        "FAKETIME_CACHE_DURATION",
                        "1");
        try (DaemonProcess member =
                DaemonProcess.start(dir, env, "serve", "--config", conf.toString())) {
            String base = "http://127.0.0.1:" + web;
            assertTrue(
                    member.awaitHttpStatus(base + "/health/ready", 200, READY),
                    "never ready:\n" + member.stderr());
            String lease = post(base, "/v3/lease/grant", "{\"TTL\":\"60\"}").path("ID").asText();
            post(
                    base,
                    "/v3/kv/put",
                    "{\"key\":\""
                            + b64("held")
                            + "\",\"value\":\""
                            + b64("v")
                            + "\",\"lease\":\""
                            + lease
                            + "\"}");

            Files.writeString(offset, "+" + STEP_SECONDS + "s\n");
            // The member's wall clock has stepped once its answers carry a Date that far ahead.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (memberWallClock(base).isBefore(Instant.now().plusSeconds(STEP_SECONDS / 2))) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "libfaketime did not move the member's wall clock");
                Thread.sleep(200);
            }
            // Time for the leader's lease checks to act on the step, had they read the wall clock.
            Thread.sleep(3000);

            long ttl =
                    post(base, "/v3/lease/timetolive", "{\"ID\":\"" + lease + "\"}")
                            .path("TTL")
                            .asLong();
            assertTrue(ttl > 0 && ttl <= 60, "the lease's TTL after the step: " + ttl);
            JsonNode held = post(base, "/v3/kv/range", "{\"key\":\"" + b64("held") + "\"}");
            assertEquals(1, held.path("kvs").size(), "the lease's key after the step: " + held);
        }
    }

    /** libfaketime's library; fails the test, naming the package, where it is missing. */
    private static Path libfaketime() throws IOException {
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib"))) {
            return dirs.map(d -> d.resolve("faketime/libfaketime.so.1"))
                    .filter(Files::isReadable)
                    .findFirst()
                    .orElseThrow(
                            () ->
                                    new AssertionError(
                                            "libfaketime is missing: apt-get install faketime"
                                                    + " (scripts/install-test-deps.sh installs it)"));
        }
    }

    private Instant memberWallClock(String base) throws IOException, InterruptedException {
        HttpResponse<Void> r =
                http.send(
                        HttpRequest.newBuilder(URI.create(base + "/health/live"))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
        String date =
                r.headers()
                        .firstValue("Date")
                        .orElseThrow(() -> new AssertionError("no Date header"));
        return ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    }

    private JsonNode post(String base, String path, String body)
            throws IOException, InterruptedException {
        HttpResponse<String> r =
                http.send(
                        HttpRequest.newBuilder(URI.create(base + path))
                                .timeout(Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
