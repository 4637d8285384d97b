package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan.log.format}: its default, the file, the environment variable, and a bad value. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LogKeysTest {

    @TempDir Path dir;

    @Test
    void textByDefault() {
        assertEquals(
                LogSettings.Format.TEXT,
                SettingsLoader.load(Optional.empty(), Map.of()).log().format());
    }

    @Test
    void fileChoosesJsonAndTheEnvironmentOverridesIt() {
        Path file = write(dir, "node.conf", "capstan.log.format = json\n");
        assertEquals(LogSettings.Format.JSON, load(file, Map.of()).log().format());
        assertEquals(
                LogSettings.Format.TEXT,
                load(file, Map.of("CAPSTAN_LOG_FORMAT", "text")).log().format());
        assertEquals(
                LogSettings.Format.JSON,
                SettingsLoader.load(Optional.empty(), Map.of("CAPSTAN_LOG_FORMAT", "json"))
                        .log()
                        .format());
    }

    @Test
    void anUnknownFormatIsRefusedNamingKeyValueAndChoices() {
        assertProblem(
                problems(Optional.empty(), Map.of("CAPSTAN_LOG_FORMAT", "xml")),
                "capstan.log.format",
                "\"xml\"",
                "text, json");
    }
}
