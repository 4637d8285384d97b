package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.etcd.SpaceQuotaSettings;
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
 * {@code capstan.api.nospace.*}: the file's values, 0 turning the quota off, and bad values named
 * by key.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NoSpaceKeysTest {

    @TempDir Path dir;

    @Test
    void theFileSetsTheReserveAndTheInterval() {
        Path file =
                write(
                        dir,
                        "node.conf",
                        "capstan.api.nospace { min-free = 1GiB, check-interval = 250ms }\n");
        assertEquals(
                new SpaceQuotaSettings(1L << 30, Duration.ofMillis(250)),
                load(file, Map.of()).api().space());
        Path off = write(dir, "off.conf", "capstan.api.nospace.min-free = 0\n");
        assertEquals(0, load(off, Map.of()).api().space().minFreeBytes());
    }

    @Test
    void aNegativeReserveIsRefusedNamingItsKey() {
        Path file = write(dir, "bad.conf", "capstan.api.nospace.min-free = -1\n");
        assertProblem(
                problems(Optional.of(file), Map.of()),
                "capstan.api.nospace.min-free",
                "-1",
                "size");
    }

    @Test
    void anIntervalBelowTenMillisecondsIsRefusedNamingItsKey() {
        Path file = write(dir, "bad.conf", "capstan.api.nospace.check-interval = 1ms\n");
        List<Problem> problems = problems(Optional.of(file), Map.of());
        assertTrue(
                problems.stream()
                        .anyMatch(
                                p ->
                                        p.key().equals("capstan.api.nospace.check-interval")
                                                && p.toString().contains("10ms")),
                () -> ConfigFiles.describe(problems));
    }
}
