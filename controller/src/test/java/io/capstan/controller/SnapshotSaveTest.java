package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.controller.admin.AdminApi;
import io.capstan.web.Gate;
import io.capstan.web.Readiness;
import io.capstan.web.Route;
import io.capstan.web.WebServer;
import io.capstan.web.WebSettings;
import io.undertow.util.Headers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code capstan snapshot save} against a web server that sends a damaged backup: the CLI checks
 * the SHA-256 the stream ends with, fails with 1 and leaves the target as it was.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SnapshotSaveTest {

    @TempDir Path dir;

    private WebServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    /** Serves {@code body} as the snapshot. */
    private String serving(byte[] body) throws Exception {
        server =
                new WebServer(
                        WebSettings.defaults().withPort(0),
                        List.of(
                                Route.get(
                                        "/v1/snapshot",
                                        Gate.open("test"),
                                        AdminApi.ADMISSION,
                                        exchange -> {
                                            exchange.getResponseHeaders()
                                                    .put(
                                                            Headers.CONTENT_TYPE,
                                                            "application/octet-stream");
                                            exchange.getResponseSender()
                                                    .send(ByteBuffer.wrap(body));
                                        })),
                        () -> new Readiness(true, Map.of()));
        return "http://127.0.0.1:" + server.start().get(10, TimeUnit.SECONDS).getPort();
    }

    private static int save(Path file, String endpoint, StringWriter err) {
        return new CommandLine(new CapstanCommand())
                .setExitCodeExceptionMapper(ExitCodes::forException)
                .setOut(new PrintWriter(new StringWriter(), true))
                .setErr(new PrintWriter(err, true))
                .execute("snapshot", "save", file.toString(), "--endpoints", endpoint);
    }

    private static byte[] withChecksum(byte[] data) throws Exception {
        byte[] body = Arrays.copyOf(data, data.length + 32);
        System.arraycopy(
                MessageDigest.getInstance("SHA-256").digest(data), 0, body, data.length, 32);
        return body;
    }

    @Test
    void aGoodStreamIsSavedWhole() throws Exception {
        byte[] data = new byte[200_000];
        Arrays.fill(data, (byte) 7);
        byte[] body = withChecksum(data);
        Path file = dir.resolve("good.snap");

        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.OK, save(file, serving(body), err), err.toString());
        assertTrue(Arrays.equals(body, Files.readAllBytes(file)));
    }

    @Test
    void aDamagedStreamFailsAndLeavesTheOldFile() throws Exception {
        byte[] body = withChecksum(new byte[100_000]);
        body[5_000] ^= 1;
        Path file = Files.writeString(dir.resolve("kept.snap"), "the previous backup");

        StringWriter err = new StringWriter();
        int exit = save(file, serving(body), err);

        assertEquals(ExitCodes.FAILED, exit);
        assertTrue(err.toString().contains("SHA-256 does not match"), err.toString());
        assertEquals("the previous backup", Files.readString(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "the temporary file is gone");
        }
    }

    @Test
    void aStreamTooShortToHoldAChecksumFails() throws Exception {
        Path file = dir.resolve("short.snap");

        StringWriter err = new StringWriter();
        int exit = save(file, serving(new byte[20]), err);

        assertEquals(ExitCodes.FAILED, exit);
        assertTrue(
                err.toString().contains("the snapshot ended after 20 of 20 bytes"), err.toString());
        assertTrue(Files.notExists(file));
    }
}
