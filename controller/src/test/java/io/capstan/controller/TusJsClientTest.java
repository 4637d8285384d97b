package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * tus-js-client, the reference tus client, run with Node.js against a real member (the script is
 * {@code test-tools/tus-upload-test.mjs}; {@code scripts/install-test-deps.sh} installs Node.js and
 * the client): an upload interrupted partway resumes to the right digest, and of two concurrent
 * PATCHes to one upload exactly one wins.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class TusJsClientTest {
    static final Path TOOLS = Path.of("..", "test-tools").toAbsolutePath().normalize();

    @TempDir Path dir;

    @Test
    void tusJsClientUploadsResumeAndRaceAsThePromisesSay() throws Exception {
        String node = executable("node");
        assertTrue(
                Files.isDirectory(TOOLS.resolve("node_modules/tus-js-client")),
                "tus-js-client is not installed in "
                        + TOOLS
                        + ": scripts/install-test-deps.sh installs it");
        try (DaemonCluster cluster = DaemonCluster.start(dir, 1, "web", "")) {
            cluster.awaitLeader(cluster.members(), Duration.ofSeconds(60));
            String base = "http://127.0.0.1:" + cluster.member(0).webAddress().getPort();
            Path output = dir.resolve("node.out");
            Process process =
                    new ProcessBuilder(node, TOOLS.resolve("tus-upload-test.mjs").toString(), base)
                            .directory(TOOLS.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(output.toFile())
                            .start();
            boolean ended = process.waitFor(3, TimeUnit.MINUTES);
            if (!ended) {
                process.destroyForcibly();
            }
            String printed = Files.readString(output, StandardCharsets.UTF_8);
            System.out.println(printed);
            assertTrue(ended, "the tus-js-client script did not end: " + printed);
            assertEquals(0, process.exitValue(), printed);
            assertTrue(
                    printed.contains("ok interrupted after")
                            && printed.contains("ok two concurrent PATCHes"),
                    printed);
        }
    }

    static String executable(String name) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(entry, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError(
                name + " is not installed: scripts/install-test-deps.sh installs it");
    }
}
