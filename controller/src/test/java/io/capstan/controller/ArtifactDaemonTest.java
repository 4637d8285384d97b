package io.capstan.controller;

import static io.capstan.controller.AdminCliTest.capstan;
import static io.capstan.controller.ArtifactClusterTest.bytes;
import static io.capstan.controller.ArtifactClusterTest.digestOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.TestSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Artifacts on one real member behind the admin token: files already in the store (valid: no fetch;
 * corrupt: replaced), a source that serves other bytes, garbage collection after the grace period,
 * bad input, and the {@code capstan artifact} CLI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ArtifactDaemonTest {
    private static final String TOKEN = "YXJ0aWZhY3QtdGVzdC10b2tlbi0wMTIzNDU2Nzg5";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private Path dir;
    private Path token;
    private DaemonCluster cluster;
    private Daemon member;
    private TestSource source;

    @BeforeAll
    void start(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        token = Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
        source = new TestSource();
        cluster =
                DaemonCluster.start(
                        dir,
                        1,
                        "web",
                        String.join(
                                "\n",
                                "capstan.admin.token-file = \"" + token + "\"",
                                ArtifactClusterTest.FAST,
                                "capstan.artifacts.gc { grace = 2s, interval = 200ms }"));
        member = cluster.member(0);
        cluster.awaitLeader(cluster.members(), WAIT);
    }

    @AfterAll
    void stop() {
        cluster.close();
        source.close();
    }

    private AdminHttp.Reply send(String method, String path, String json) throws Exception {
        return AdminHttp.send(
                member, method, path, Optional.ofNullable(json), Optional.of("Bearer " + TOKEN));
    }

    private AdminHttp.Reply register(String path, String digest, String reference)
            throws Exception {
        return send(
                "POST",
                "/v1/artifacts",
                "{\"url\":\""
                        + source.url(path)
                        + "\",\"digest\":\""
                        + digest
                        + "\",\"references\":[\""
                        + reference
                        + "\"]}");
    }

    private Path stored(String digest) {
        return dir.resolve("n1/artifacts/sha256").resolve(digest.substring("sha256:".length()));
    }

    private JsonNode awaitState(String digest, String state) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode a = artifactWithToken(digest);
            if (a != null && a.path("state").asText().equals(state)) {
                return a;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(
                digest + " never became " + state + ": " + artifactWithToken(digest));
    }

    private JsonNode artifactWithToken(String digest) throws Exception {
        for (JsonNode a : send("GET", "/v1/artifacts", null).json().path("artifacts")) {
            if (a.path("digest").asText().equals(digest)) {
                return a;
            }
        }
        return null;
    }

    @Test
    void aValidFileAlreadyInTheStoreIsUsedWithoutAnyFetch() throws Exception {
        byte[] data = bytes(500_000, 21);
        String digest = digestOf(data);
        source.serve("/seeded", data);
        Files.write(stored(digest), data);
        AdminHttp.Reply reply = register("/seeded", digest, "app");
        assertEquals(200, reply.status(), reply.text());
        assertEquals("ready", reply.json().path("state").asText());
        assertEquals(0, source.requests("/seeded"));
    }

    @Test
    void aCorruptFileInTheStoreIsReplaced() throws Exception {
        byte[] data = bytes(500_000, 22);
        String digest = digestOf(data);
        source.serve("/corrupt", data);
        byte[] corrupt = data.clone();
        corrupt[1234] ^= 0x40;
        Files.write(stored(digest), corrupt);
        AdminHttp.Reply reply = register("/corrupt", digest, "app");
        assertEquals(202, reply.status(), reply.text());
        awaitState(digest, "ready");
        assertEquals(1, source.requests("/corrupt"));
        assertArrayEquals(data, Files.readAllBytes(stored(digest)));
    }

    @Test
    void aSourceServingOtherBytesFailsTheArtifactAndStoresNothing() throws Exception {
        byte[] wanted = bytes(100_000, 23);
        String digest = digestOf(wanted);
        source.serve("/other", bytes(100_000, 24));
        assertEquals(202, register("/other", digest, "app").status());
        JsonNode failed = awaitState(digest, "failed");
        assertTrue(failed.path("failure").asText().contains("not " + digest), failed.toString());
        assertFalse(Files.exists(stored(digest)));
        try (var files = Files.list(stored(digest).getParent())) {
            assertTrue(
                    files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")),
                    "no temporary file stays");
        }
        AdminHttp.Reply get = send("GET", "/v1/artifacts/" + digest, null);
        assertEquals(409, get.status());
        assertEquals("artifact_failed", get.errorCode());
        // Registered again once the source is right, it is fetched anew.
        source.serve("/other", wanted);
        assertEquals(202, register("/other", digest, "app").status());
        awaitState(digest, "ready");
    }

    @Test
    void anArtifactWithoutReferencesIsCollectedAfterTheGracePeriod() throws Exception {
        byte[] data = bytes(10_000, 25);
        String digest = digestOf(data);
        source.serve("/gc", data);
        assertEquals(202, register("/gc", digest, "app").status());
        awaitState(digest, "ready");
        assertTrue(Files.exists(stored(digest)));
        assertEquals(
                200, send("DELETE", "/v1/artifacts/" + digest + "?reference=app", null).status());
        DaemonCluster.awaitTrue(
                "the unreferenced artifact is collected",
                WAIT,
                () -> {
                    try {
                        return artifactWithToken(digest) == null && !Files.exists(stored(digest));
                    } catch (Exception e) {
                        return false;
                    }
                });
    }

    @Test
    void badInputAndMissingTokensAreClearErrors() throws Exception {
        assertEquals(401, AdminHttp.get(member, "/v1/artifacts").status());
        assertEquals(401, AdminHttp.post(member, "/v1/uploads", "").status());
        AdminHttp.Reply notJson = send("POST", "/v1/artifacts", "{not json");
        assertEquals(400, notJson.status());
        assertEquals("bad_request", notJson.errorCode());
        AdminHttp.Reply badDigest =
                send("POST", "/v1/artifacts", "{\"url\":\"http://x.test/a\",\"digest\":\"md5:1\"}");
        assertEquals(400, badDigest.status());
        assertTrue(badDigest.text().contains("sha256:"), badDigest.text());
        AdminHttp.Reply badUrl =
                send(
                        "POST",
                        "/v1/artifacts",
                        "{\"url\":\"file:///etc/passwd\",\"digest\":\""
                                + digestOf(new byte[1])
                                + "\"}");
        assertEquals(400, badUrl.status());
        assertEquals(400, send("GET", "/v1/artifacts/nope", null).status());
        assertEquals(404, send("GET", "/v1/artifacts/" + digestOf(new byte[2]), null).status());
        assertEquals(404, send("DELETE", "/v1/artifacts/" + digestOf(new byte[2]), null).status());
    }

    @Test
    void theCliUploadsListsDownloadsAndDeletes() throws Exception {
        byte[] data = bytes(3_000_000, 26);
        String digest = digestOf(data);
        Path file = Files.write(dir.resolve("module.bin"), data);
        String endpoint = "http://127.0.0.1:" + member.webAddress().getPort();
        String[] common = {"--endpoints", endpoint, "--token-file", token.toString()};

        AdminCliTest.Run added =
                capstan(
                        concat(
                                new String[] {"artifact", "add", file.toString(), "--ref", "cli"},
                                common));
        assertEquals(0, added.exit(), added.toString());
        assertTrue(added.out().contains(digest), added.toString());

        AdminCliTest.Run listed = capstan(concat(new String[] {"artifact", "list"}, common));
        assertEquals(0, listed.exit(), listed.toString());
        assertTrue(
                listed.out().contains(digest) && listed.out().contains("ready"), listed.toString());

        Path saved = dir.resolve("saved.bin");
        AdminCliTest.Run got =
                capstan(
                        concat(
                                new String[] {"artifact", "get", digest, "-o", saved.toString()},
                                common));
        assertEquals(0, got.exit(), got.toString());
        assertArrayEquals(data, Files.readAllBytes(saved));

        AdminCliTest.Run refused = capstan(concat(new String[] {"artifact", "rm", digest}, common));
        assertEquals(1, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("artifact_referenced"), refused.toString());
        assertEquals(
                0,
                capstan(concat(new String[] {"artifact", "rm", digest, "--ref", "cli"}, common))
                        .exit());
        AdminCliTest.Run removed = capstan(concat(new String[] {"artifact", "rm", digest}, common));
        assertEquals(0, removed.exit(), removed.toString());
        assertNull(artifactWithToken(digest));

        byte[] fetched = bytes(200_000, 27);
        String fetchedDigest = digestOf(fetched);
        source.serve("/cli", fetched);
        AdminCliTest.Run byUrl =
                capstan(
                        concat(
                                new String[] {
                                    "artifact",
                                    "add",
                                    source.url("/cli").toString(),
                                    "--digest",
                                    fetchedDigest,
                                    "--ref",
                                    "cli",
                                    "--wait"
                                },
                                common));
        assertEquals(0, byUrl.exit(), byUrl.toString());
        assertTrue(byUrl.out().contains(fetchedDigest + " ready"), byUrl.toString());

        AdminCliTest.Run usage =
                capstan(concat(new String[] {"artifact", "get", "sha1:abc", "-o", "x"}, common));
        assertEquals(2, usage.exit(), usage.toString());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
