package io.capstan.controller;

import static io.capstan.controller.ArtifactClusterTest.bytes;
import static io.capstan.controller.ArtifactClusterTest.digestOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tus 1.0.0 protocol at /v1/uploads on a real member, spoken by hand: creation (with and
 * without a body), offsets, checksums, termination, expiry, limits, one owner per upload, and a
 * PATCH whose connection breaks.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TusProtocolTest {
    @TempDir static Path dir;
    static DaemonCluster cluster;
    static Daemon member;

    @BeforeAll
    static void start() throws Exception {
        cluster =
                DaemonCluster.start(
                        dir,
                        1,
                        "web",
                        String.join(
                                "\n",
                                "capstan.artifacts {",
                                "  max-size = 64MiB",
                                "  uploads { max-open = 4, expire-after = 5s }",
                                "}"));
        member = cluster.member(0);
        cluster.awaitLeader(cluster.members(), Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static String created(long length, String metadata) throws Exception {
        HttpResponse<String> created = TusClient.create(member, length, metadata);
        assertEquals(201, created.statusCode(), created.body());
        assertEquals("1.0.0", created.headers().firstValue("Tus-Resumable").orElseThrow());
        assertTrue(created.headers().firstValue("Upload-Expires").isPresent());
        return created.headers().firstValue("Location").orElseThrow();
    }

    private static long offset(String location) throws Exception {
        HttpResponse<String> head = TusClient.head(member, location);
        assertEquals(200, head.statusCode(), head.body());
        return Long.parseLong(head.headers().firstValue("Upload-Offset").orElseThrow());
    }

    private static void terminate(String location) throws Exception {
        HttpResponse<String> deleted =
                TusClient.HTTP.send(
                        HttpRequest.newBuilder(AdminHttp.url(member, location))
                                .header("Tus-Resumable", "1.0.0")
                                .DELETE()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(204, deleted.statusCode(), deleted.body());
    }

    private static String sha256Header(byte[] chunk) throws Exception {
        return "sha256 "
                + Base64.getEncoder()
                        .encodeToString(MessageDigest.getInstance("SHA-256").digest(chunk));
    }

    @Test
    void optionsTellsVersionExtensionsAndLimits() throws Exception {
        HttpResponse<String> options =
                TusClient.HTTP.send(
                        HttpRequest.newBuilder(AdminHttp.url(member, "/v1/uploads"))
                                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(204, options.statusCode());
        assertEquals("1.0.0", options.headers().firstValue("Tus-Version").orElseThrow());
        assertEquals(
                "creation,creation-with-upload,termination,expiration,checksum",
                options.headers().firstValue("Tus-Extension").orElseThrow());
        assertEquals(
                Long.toString(64L << 20),
                options.headers().firstValue("Tus-Max-Size").orElseThrow());
        assertEquals(
                "sha256", options.headers().firstValue("Tus-Checksum-Algorithm").orElseThrow());
    }

    @Test
    void chunksWithChecksumsEndInAVerifiedArtifact() throws Exception {
        byte[] data = bytes(2_500_000, 11);
        String digest = digestOf(data);
        String location =
                created(
                        data.length,
                        "filetype "
                                + TusClient.base64("application/x-tar")
                                + ",reference "
                                + TusClient.base64("bundle/web"));
        assertEquals(0, offset(location));
        byte[] first = Arrays.copyOfRange(data, 0, 1_000_000);
        HttpResponse<String> wrong =
                TusClient.patch(
                        member,
                        location,
                        0,
                        first,
                        "Upload-Checksum",
                        sha256Header(new byte[] {1}));
        assertEquals(460, wrong.statusCode(), wrong.body());
        assertEquals(0, offset(location), "a chunk that failed its checksum is not kept");
        HttpResponse<String> ok =
                TusClient.patch(member, location, 0, first, "Upload-Checksum", sha256Header(first));
        assertEquals(204, ok.statusCode(), ok.body());
        assertEquals("1000000", ok.headers().firstValue("Upload-Offset").orElseThrow());
        HttpResponse<String> stale = TusClient.patch(member, location, 0, first);
        assertEquals(409, stale.statusCode(), "a PATCH at an old offset conflicts");
        assertEquals("1000000", stale.headers().firstValue("Upload-Offset").orElseThrow());
        HttpResponse<String> last =
                TusClient.patch(
                        member,
                        location,
                        1_000_000,
                        Arrays.copyOfRange(data, 1_000_000, data.length));
        assertEquals(204, last.statusCode(), last.body());
        assertEquals(digest, last.headers().firstValue("Capstan-Artifact-Digest").orElseThrow());

        JsonRecord record = JsonRecord.of(member, digest);
        assertEquals("ready", record.state());
        assertEquals(List.of("bundle/web"), record.references());
        HttpResponse<byte[]> got = ArtifactClusterTest.download(member, digest);
        assertArrayEquals(data, got.body());
        assertEquals("application/x-tar", got.headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void creationWithUploadAndADeclaredDigestThatDoesNotMatch() throws Exception {
        byte[] data = bytes(300_000, 12);
        HttpResponse<String> created =
                TusClient.HTTP.send(
                        HttpRequest.newBuilder(AdminHttp.url(member, "/v1/uploads"))
                                .header("Tus-Resumable", "1.0.0")
                                .header("Upload-Length", Integer.toString(data.length))
                                .header(
                                        "Upload-Metadata",
                                        "digest " + TusClient.base64(digestOf(bytes(10, 1))))
                                .header("Content-Type", "application/offset+octet-stream")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(data))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(460, created.statusCode(), created.body());
        assertTrue(created.body().contains("not " + digestOf(bytes(10, 1))), created.body());
        String location = created.headers().firstValue("Location").orElseThrow();
        assertEquals(
                404, TusClient.head(member, location).statusCode(), "a wrong upload is deleted");

        HttpResponse<String> good =
                TusClient.HTTP.send(
                        HttpRequest.newBuilder(AdminHttp.url(member, "/v1/uploads"))
                                .header("Tus-Resumable", "1.0.0")
                                .header("Upload-Length", Integer.toString(data.length))
                                .header(
                                        "Upload-Metadata",
                                        "digest " + TusClient.base64(digestOf(data)))
                                .header("Content-Type", "application/offset+octet-stream")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(data))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(201, good.statusCode(), good.body());
        assertEquals(
                Integer.toString(data.length),
                good.headers().firstValue("Upload-Offset").orElseThrow());
        assertEquals(
                digestOf(data), good.headers().firstValue("Capstan-Artifact-Digest").orElseThrow());
    }

    @Test
    void twoConcurrentPatchesToOneUploadOneWinsAndTheBytesAreRight() throws Exception {
        byte[] data = bytes(8 << 20, 13);
        String location = created(data.length, "");
        for (int round = 0; round < 5; round++) {
            long at = offset(location);
            if (at == data.length) {
                break;
            }
            byte[] chunk =
                    Arrays.copyOfRange(data, (int) at, (int) Math.min(data.length, at + (2 << 20)));
            List<CompletableFuture<HttpResponse<String>>> racing = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                racing.add(
                        CompletableFuture.supplyAsync(
                                () -> {
                                    try {
                                        return TusClient.patch(member, location, at, chunk);
                                    } catch (Exception e) {
                                        throw new java.util.concurrent.CompletionException(e);
                                    }
                                }));
            }
            List<Integer> codes = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> r : racing) {
                codes.add(r.get(60, TimeUnit.SECONDS).statusCode());
            }
            assertEquals(1, codes.stream().filter(c -> c == 204).count(), "codes " + codes);
            assertTrue(
                    codes.stream().allMatch(c -> c == 204 || c == 409 || c == 423),
                    "codes " + codes);
            assertEquals(at + chunk.length, offset(location));
        }
        HttpResponse<String> head = TusClient.head(member, location);
        assertEquals(
                digestOf(data), head.headers().firstValue("Capstan-Artifact-Digest").orElseThrow());
        assertArrayEquals(data, ArtifactClusterTest.download(member, digestOf(data)).body());
    }

    @Test
    void aPatchWhoseConnectionBreaksKeepsTheBytesThatArrived() throws Exception {
        byte[] data = bytes(4 << 20, 14);
        String location = created(data.length, "");
        int sent = 1_500_000;
        try (Socket socket = new Socket("127.0.0.1", member.webAddress().getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(
                    ("PATCH "
                                    + location
                                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                                    + "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                                    + "Content-Length: "
                                    + data.length
                                    + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            out.write(data, 0, sent);
            out.flush();
            // Breaks off mid-body, as a client that lost its network does.
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            in.readAllBytes();
        }
        DaemonCluster.awaitTrue(
                "the broken PATCH released the upload at offset " + sent,
                Duration.ofSeconds(30),
                () -> {
                    try {
                        return offset(location) == sent;
                    } catch (Exception e) {
                        return false;
                    }
                });
        // The client resumes from where HEAD says, and the artifact is whole.
        HttpResponse<String> rest =
                TusClient.patch(
                        member, location, sent, Arrays.copyOfRange(data, sent, data.length));
        assertEquals(204, rest.statusCode(), rest.body());
        assertArrayEquals(data, ArtifactClusterTest.download(member, digestOf(data)).body());
    }

    @Test
    void limitsVersionsTerminationAndExpiry() throws Exception {
        HttpResponse<String> noVersion =
                TusClient.HTTP.send(
                        HttpRequest.newBuilder(AdminHttp.url(member, "/v1/uploads"))
                                .header("Upload-Length", "10")
                                .POST(HttpRequest.BodyPublishers.noBody())
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(412, noVersion.statusCode());
        assertEquals("1.0.0", noVersion.headers().firstValue("Tus-Version").orElseThrow());
        assertEquals(413, TusClient.create(member, (64L << 20) + 1, "").statusCode());
        assertEquals(400, TusClient.create(member, 10, "digest not-base64!").statusCode());

        String location = created(100, "");
        HttpResponse<String> past = TusClient.patch(member, location, 0, new byte[101]);
        assertEquals(413, past.statusCode(), past.body());
        terminate(location);
        assertEquals(404, TusClient.head(member, location).statusCode());

        // max-open = 4: a fifth unfinished upload is refused until they expire (expire-after = 5s).
        List<String> open = new ArrayList<>();
        HttpResponse<String> refused = null;
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = TusClient.create(member, 10, "");
            if (r.statusCode() == 201) {
                open.add(r.headers().firstValue("Location").orElseThrow());
            } else {
                refused = r;
            }
        }
        assertTrue(
                refused != null && refused.statusCode() == 429, "the fifth creation: " + refused);
        DaemonCluster.awaitTrue(
                "unfinished uploads expire",
                Duration.ofSeconds(60),
                () -> {
                    try {
                        for (String upload : open) {
                            if (TusClient.head(member, upload).statusCode() != 404) {
                                return false;
                            }
                        }
                        return true;
                    } catch (Exception e) {
                        return false;
                    }
                });
        try (var files = Files.list(dir.resolve("n1/artifacts/uploads"))) {
            String id = open.get(0).substring("/v1/uploads/".length());
            assertTrue(
                    files.noneMatch(p -> p.getFileName().toString().startsWith(id)),
                    "its files are gone");
        }
    }

    /** The fields of an artifact's record these tests read. */
    record JsonRecord(String state, List<String> references) {
        static JsonRecord of(Daemon member, String digest) throws Exception {
            var json = ArtifactClusterTest.artifact(member, digest);
            List<String> references = new ArrayList<>();
            json.path("references").forEach(r -> references.add(r.asText()));
            return new JsonRecord(json.path("state").asText(), references);
        }
    }
}
