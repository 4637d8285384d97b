package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.secretFile;
import static io.capstan.controller.config.ConfigFiles.secretLine;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.controller.admin.AdminToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capstan.admin.token-file} and {@code capstan.raft.max-leaderless}: the token is read while
 * the configuration binds, and a web layer reachable beyond loopback must have one.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AdminKeysTest {
    private static final String TOKEN = "t0ken-t0ken-t0ken-t0ken-t0ken-01";
    private static final String KEY = "capstan.admin.token-file";

    @TempDir Path dir;

    private Path config(String hocon) {
        return write(dir, "node.conf", hocon);
    }

    private static String tokenLine(Path token) {
        return KEY + " = \"" + token + "\"\n";
    }

    @Test
    void aTokenFileBindsWithoutItsLineBreakAndIsNeverPrinted() {
        Path token = write(dir, "admin.token", TOKEN + "\n");

        Settings s = load(config(tokenLine(token)), Map.of());

        AdminToken bound = s.admin().token().orElseThrow();
        assertTrue(bound.matches(TOKEN));
        assertFalse(bound.matches(TOKEN + "\n"));
        assertFalse(s.toString().contains(TOKEN), "settings are printed without the token: " + s);
    }

    @Test
    void aWebLayerBeyondLoopbackNeedsATokenFile() {
        List<Problem> problems =
                problems(
                        Optional.of(
                                config(
                                        "capstan.web.host = \"0.0.0.0\"\n"
                                                + secretLine(secretFile(dir)))),
                        Map.of());

        assertProblem(
                problems,
                KEY,
                "\"\"",
                "must name the admin token file",
                "only a web layer on loopback",
                "capstan.web.host = 0.0.0.0",
                "reference.conf");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void aWebLayerBeyondLoopbackWithATokenBinds() {
        Path token = write(dir, "admin.token", TOKEN);

        Settings s =
                load(
                        config(
                                "capstan.node.host = \"10.0.0.7\"\n"
                                        + secretLine(secretFile(dir))
                                        + tokenLine(token)),
                        Map.of());

        assertEquals("10.0.0.7", s.web().host());
        assertTrue(s.admin().token().orElseThrow().matches(TOKEN));
    }

    @Test
    void aMissingFileIsNamedWithTheRule() {
        Path missing = dir.resolve("nope.token");

        List<Problem> problems = problems(Optional.of(config(tokenLine(missing))), Map.of());

        assertProblem(
                problems,
                KEY,
                "\"" + missing + "\"",
                "no such file",
                "16..1024 visible ASCII characters",
                "node.conf:1");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void aShortOrUnprintableTokenIsRefusedWithoutShowingIt() throws Exception {
        Path shortToken = write(dir, "short.token", "only-15-chars!!\n");
        Problem p =
                assertProblem(
                        problems(Optional.of(config(tokenLine(shortToken))), Map.of()),
                        KEY,
                        "\"" + shortToken + "\"",
                        "holds 15 characters",
                        "16..1024 visible ASCII");
        assertFalse(p.toString().contains("only-15"), p.toString());

        Path spaced = write(dir, "spaced.token", "has a space inside it, which no header keeps\n");
        assertProblem(
                problems(Optional.of(config(tokenLine(spaced))), Map.of()),
                KEY,
                "\"" + spaced + "\"",
                "not all visible ASCII");

        Path directory = Files.createDirectory(dir.resolve("tokens"));
        assertProblem(
                problems(Optional.of(config(tokenLine(directory))), Map.of()),
                KEY,
                "\"" + directory + "\"",
                "is a directory");
    }

    @Test
    void maxLeaderlessBindsAndMustBePositive() {
        Settings s = load(config("capstan.raft.max-leaderless = 2500ms\n"), Map.of());
        assertEquals(Duration.ofMillis(2500), s.admin().maxLeaderless());

        assertProblem(
                problems(Optional.of(config("capstan.raft.max-leaderless = 0s\n")), Map.of()),
                "capstan.raft.max-leaderless",
                "\"0s\"",
                "must be a positive duration");
        assertProblem(
                problems(Optional.of(config("capstan.raft.max-leaderless = soon\n")), Map.of()),
                "capstan.raft.max-leaderless",
                "\"soon\"",
                "must be a positive duration");
    }
}
