package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.capstan.artifacts.ArtifactSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan.artifacts.*}: the defaults, a file's values, and bad values refused by key. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ArtifactKeysTest {

    @TempDir Path dir;

    @Test
    void theDefaultsPutTheStoreUnderTheDataDirectory() {
        Settings settings =
                SettingsLoader.load(Optional.empty(), Map.of("CAPSTAN_DATA_DIR", dir.toString()));
        assertEquals(ArtifactSettings.defaults(dir.resolve("artifacts")), settings.artifacts());
    }

    @Test
    void aFileSetsEveryKey() {
        Path file =
                write(
                        dir,
                        "node.conf",
                        String.join(
                                "\n",
                                "capstan.artifacts {",
                                "  max-size = 16MiB, reconcile-interval = 500ms",
                                "  fetch { parallel = 2, attempts = 7, backoff-min = 1s, backoff-max = 5s, stale-after = 1m }",
                                "  uploads { max-open = 3, expire-after = 1h }",
                                "  gc { grace = 10m, interval = 30s }",
                                "}"));
        ArtifactSettings artifacts = load(file, Map.of()).artifacts();
        assertEquals(16L << 20, artifacts.maxSize());
        assertEquals(Duration.ofMillis(500), artifacts.reconcileInterval());
        assertEquals(2, artifacts.fetch().parallel());
        assertEquals(7, artifacts.fetch().attempts());
        assertEquals(Duration.ofSeconds(5), artifacts.fetch().backoffMax());
        assertEquals(3, artifacts.uploads().maxOpen());
        assertEquals(Duration.ofHours(1), artifacts.uploads().expireAfter());
        assertEquals(Duration.ofMinutes(10), artifacts.gcGrace());
    }

    @Test
    void badValuesAreRefusedNamingTheirKeys() {
        Path file =
                write(
                        dir,
                        "bad.conf",
                        "capstan.artifacts { fetch.attempts = 0, uploads.max-open = -1 }");
        var problems = problems(Optional.of(file), Map.of());
        assertProblem(problems, "capstan.artifacts.fetch.attempts", "0", "1..100");
        assertProblem(problems, "capstan.artifacts.uploads.max-open", "-1", "1..100000");
    }

    @Test
    void aLongestWaitBelowTheShortestIsRefused() {
        Path file =
                write(
                        dir,
                        "bad.conf",
                        "capstan.artifacts.fetch { backoff-min = 10s, backoff-max = 1s }");
        assertProblem(
                problems(Optional.of(file), Map.of()),
                "capstan.artifacts.fetch.backoff-max",
                null,
                "at least capstan.artifacts.fetch.backoff-min");
    }
}
