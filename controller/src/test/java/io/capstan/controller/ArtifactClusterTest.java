package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.TestSource;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Artifacts on a real 3-member cluster (real Undertow ports, real Ratis, the web transport): many
 * registrations of one digest share one source request, and every member serves the same bytes; an
 * upload to one member reaches a member that was down during it.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ArtifactClusterTest {
    static final String FAST =
            String.join(
                    "\n",
                    "capstan.artifacts {",
                    "  reconcile-interval = 200ms",
                    "  fetch { backoff-min = 50ms, backoff-max = 500ms, attempts = 3 }",
                    "}");
    static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();

    @TempDir Path dir;

    static byte[] bytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    static String digestOf(byte[] data) throws Exception {
        return "sha256:"
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static JsonNode artifact(Daemon member, String digest) throws Exception {
        for (JsonNode a : AdminHttp.get(member, "/v1/artifacts").json().path("artifacts")) {
            if (a.path("digest").asText().equals(digest)) {
                return a;
            }
        }
        return null;
    }

    static boolean heldEverywhere(List<Daemon> members, String digest) throws Exception {
        for (Daemon member : members) {
            JsonNode a = artifact(member, digest);
            if (a == null
                    || !a.path("local").asBoolean()
                    || a.path("holders").size() != members.size()) {
                return false;
            }
        }
        return true;
    }

    static HttpResponse<byte[]> download(Daemon member, String digest, String... headers)
            throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(AdminHttp.url(member, "/v1/artifacts/" + digest))
                        .timeout(Duration.ofSeconds(60))
                        .GET();
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void awaitCondition(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT + " waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    @FunctionalInterface
    interface Check {
        boolean holds() throws Exception;
    }

    @Test
    void fiftyRegistrationsOfOneDigestMakeOneSourceRequestAndEveryMemberServesTheSameBytes()
            throws Exception {
        byte[] data = bytes(4 << 20, 1);
        String digest = digestOf(data);
        try (TestSource source = new TestSource();
                DaemonCluster cluster = DaemonCluster.start(dir, 3, "web", FAST)) {
            source.serve("/module.wasm", data);
            // A slow source: every registration arrives while the one fetch is still under way.
            source.delay(500);
            cluster.awaitLeader(cluster.members(), WAIT);
            List<Daemon> members = cluster.members();
            ExecutorService clients = Executors.newFixedThreadPool(50);
            List<CompletableFuture<AdminHttp.Reply>> replies = new ArrayList<>();
            long started = System.nanoTime();
            try {
                for (int i = 0; i < 50; i++) {
                    Daemon member = members.get(i % 3);
                    String body =
                            "{\"url\":\""
                                    + source.url("/module.wasm")
                                    + "\",\"digest\":\""
                                    + digest
                                    + "\",\"media_type\":\"application/wasm\",\"references\":[\"component-"
                                    + i
                                    + "\"]}";
                    replies.add(
                            CompletableFuture.supplyAsync(
                                    () -> {
                                        try {
                                            return AdminHttp.post(member, "/v1/artifacts", body);
                                        } catch (Exception e) {
                                            throw new java.util.concurrent.CompletionException(e);
                                        }
                                    },
                                    clients));
                }
                for (CompletableFuture<AdminHttp.Reply> reply : replies) {
                    AdminHttp.Reply r = reply.get(60, TimeUnit.SECONDS);
                    assertTrue(r.status() == 202 || r.status() == 200, r.status() + " " + r.text());
                    assertEquals(digest, r.json().path("digest").asText());
                }
            } finally {
                clients.shutdownNow();
            }
            awaitCondition("every member holds " + digest, () -> heldEverywhere(members, digest));
            System.out.printf(
                    "50 concurrent registrations of one 4 MiB artifact: every member held it after %d ms%n",
                    (System.nanoTime() - started) / 1_000_000);
            assertEquals(1, source.requests("/module.wasm"), "source requests");

            JsonNode record = artifact(members.get(2), digest);
            assertEquals("ready", record.path("state").asText());
            assertEquals(50, record.path("references").size());
            assertEquals(data.length, record.path("size").asLong());
            assertEquals("application/wasm", record.path("media_type").asText());
            for (Daemon member : members) {
                HttpResponse<byte[]> got = download(member, digest);
                assertEquals(200, got.statusCode());
                assertArrayEquals(data, got.body());
                assertEquals("\"" + digest + "\"", got.headers().firstValue("ETag").orElseThrow());
                assertEquals(
                        "application/wasm", got.headers().firstValue("Content-Type").orElseThrow());
            }
            // A range, a cached copy, an unsatisfiable range.
            HttpResponse<byte[]> range =
                    download(members.get(1), digest, "Range", "bytes=1000-1999");
            assertEquals(206, range.statusCode());
            assertArrayEquals(Arrays.copyOfRange(data, 1000, 2000), range.body());
            assertEquals(
                    "bytes 1000-1999/" + data.length,
                    range.headers().firstValue("Content-Range").orElseThrow());
            HttpResponse<byte[]> tail = download(members.get(0), digest, "Range", "bytes=-10");
            assertArrayEquals(Arrays.copyOfRange(data, data.length - 10, data.length), tail.body());
            assertEquals(
                    304,
                    download(members.get(2), digest, "If-None-Match", "\"" + digest + "\"")
                            .statusCode());
            assertEquals(
                    416,
                    download(members.get(2), digest, "Range", "bytes=" + data.length + "-")
                            .statusCode());
            // The peer route is for members only.
            AdminHttp.Reply peer = AdminHttp.get(members.get(0), "/peer/artifacts/" + digest);
            assertEquals(401, peer.status(), peer.text());

            // Refused while referenced; dropping every reference, then deleting, removes it
            // everywhere.
            AdminHttp.Reply refused = AdminHttp.delete(members.get(1), "/v1/artifacts/" + digest);
            assertEquals(409, refused.status(), refused.text());
            assertEquals("artifact_referenced", refused.errorCode());
            StringBuilder query = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                query.append(i == 0 ? "?" : "&").append("reference=component-").append(i);
            }
            AdminHttp.Reply released =
                    AdminHttp.delete(members.get(1), "/v1/artifacts/" + digest + query);
            assertEquals(200, released.status(), released.text());
            assertEquals(0, released.json().path("references").size());
            assertEquals(200, AdminHttp.delete(members.get(1), "/v1/artifacts/" + digest).status());
            awaitCondition(
                    "every member deleted the bytes",
                    () -> {
                        for (int i = 0; i < 3; i++) {
                            if (Files.exists(
                                    dir.resolve("n" + (i + 1))
                                            .resolve("artifacts/sha256")
                                            .resolve(digest.substring("sha256:".length())))) {
                                return false;
                            }
                        }
                        return true;
                    });
            assertEquals(404, download(members.get(0), digest).statusCode());
        }
    }

    @Test
    void anUploadToOneMemberReachesAMemberThatWasDownDuringIt() throws Exception {
        byte[] data = bytes(3 << 20, 2);
        String digest = digestOf(data);
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, "web", FAST)) {
            cluster.awaitLeader(cluster.members(), WAIT);
            cluster.stop(2);
            Daemon first = cluster.member(0);
            String location =
                    TusClient.upload(first, data, 1 << 20, "digest " + TusClient.base64(digest));
            assertTrue(location.startsWith("/v1/uploads/"), location);
            assertEquals(
                    digest,
                    TusClient.head(first, location)
                            .headers()
                            .firstValue("Capstan-Artifact-Digest")
                            .orElseThrow());
            awaitCondition(
                    "both running members hold it",
                    () ->
                            artifact(cluster.member(1), digest) != null
                                    && artifact(cluster.member(1), digest)
                                            .path("local")
                                            .asBoolean());

            Daemon restarted = cluster.restart(2);
            awaitCondition(
                    "the restarted member holds it",
                    () -> heldEverywhere(cluster.members(), digest));
            for (Daemon member : List.of(cluster.member(0), cluster.member(1), restarted)) {
                HttpResponse<byte[]> got = download(member, digest);
                assertEquals(200, got.statusCode());
                assertArrayEquals(data, got.body(), "bytes from " + member.raft().nodeId());
            }
            JsonNode record = artifact(restarted, digest);
            assertEquals("", record.path("url").asText());
            assertFalse(record.has("failure"));
        }
    }
}
