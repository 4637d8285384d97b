package io.capstan.controller.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Helpers shared by the configuration tests: write a file, load, expect problems. */
final class ConfigFiles {
    private ConfigFiles() {}

    static Path write(Path dir, String name, String hocon) {
        try {
            return Files.writeString(dir.resolve(name), hocon);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A cluster secret file as an operator would write it: 32 random bytes, base64, newline. */
    static Path secretFile(Path dir) {
        return write(dir, "cluster.secret", "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n");
    }

    /** A config layer naming {@code secret} as the cluster secret file. */
    static String secretLine(Path secret) {
        return "capstan.raft.secret-file = \"" + secret + "\"\n";
    }

    /**
     * A config layer naming an admin token file (written into {@code dir}), which a web layer bound
     * beyond loopback needs.
     */
    static String adminTokenLine(Path dir) {
        Path token = write(dir, "admin.token", "aDmInToKeN-0123456789abcdefABCDEF\n");
        return "capstan.admin.token-file = \"" + token + "\"\n";
    }

    static Settings load(Path file, Map<String, String> env) {
        return SettingsLoader.load(Optional.of(file), env);
    }

    /** Loads expecting failure and returns the problems; also checks the message lists each. */
    static List<Problem> problems(Optional<Path> file, Map<String, String> env) {
        SettingsException e =
                assertThrows(SettingsException.class, () -> SettingsLoader.load(file, env));
        assertFalse(e.problems().isEmpty());
        for (Problem p : e.problems()) {
            assertTrue(
                    e.getMessage().lines().anyMatch(line -> line.equals(p.toString())),
                    () -> "message lacks line '" + p + "':\n" + e.getMessage());
        }
        return e.problems();
    }

    /**
     * The single problem about {@code key}; its value is rendered as given and its message holds
     * each fragment.
     */
    static Problem assertProblem(
            List<Problem> problems, String key, String value, String... fragments) {
        List<Problem> matching = problems.stream().filter(p -> p.key().equals(key)).toList();
        assertTrue(
                matching.size() == 1,
                () -> "expected one problem for " + key + " in:\n" + describe(problems));
        Problem problem = matching.get(0);
        assertTrue(
                problem.value().equals(Optional.ofNullable(value)),
                () -> "value of " + key + " was " + problem.value() + ", expected " + value);
        for (String fragment : fragments) {
            assertTrue(
                    problem.message().contains(fragment),
                    () -> "message of " + key + " lacks '" + fragment + "': " + problem.message());
        }
        return problem;
    }

    static String describe(List<Problem> problems) {
        return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
    }
}
