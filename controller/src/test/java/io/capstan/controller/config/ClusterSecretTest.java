package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.adminTokenLine;
import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.secretLine;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cluster secret is read while the configuration binds; a bad one stops the daemon before
 * anything starts.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClusterSecretTest {
    private static final String CLUSTER = "n1=10.0.0.1:7480,n2=10.0.0.2:7480,n3=10.0.0.3:7480";

    @TempDir Path dir;

    private Optional<Path> naming(Path secret) {
        return Optional.of(write(dir, "node.conf", secretLine(secret) + adminTokenLine(dir)));
    }

    private static Map<String, String> member() {
        return Map.of("CAPSTAN_HOST", "10.0.0.1", "CAPSTAN_PEERS", CLUSTER);
    }

    @Test
    void aGoodSecretIsReadWithoutItsTrailingLineBreak() throws Exception {
        Path secret = write(dir, "cluster.secret", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123\n");

        Settings s = ConfigFiles.load(naming(secret).orElseThrow(), member());

        assertArrayEquals(
                "s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123".getBytes(StandardCharsets.US_ASCII),
                s.transport().secret());
        assertEquals(Optional.of(secret), s.cluster().secretFile());
        assertFalse(
                s.toString().contains("s3cr3t"), "settings are printed without the secret: " + s);
        assertFalse(Files.readString(secret).isEmpty(), "binding leaves the file alone");
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 1024})
    void secretsAtEitherEndOfTheAllowedLengthBind(int length) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) 'k');
        Path secret = write(dir, "cluster.secret", new String(bytes, StandardCharsets.US_ASCII));

        assertEquals(
                length,
                ConfigFiles.load(naming(secret).orElseThrow(), member())
                        .transport()
                        .secret()
                        .length);
    }

    @Test
    void aMissingFileIsNamedWithTheRule() {
        Path missing = dir.resolve("nope.secret");

        List<Problem> problems = problems(naming(missing), member());

        assertProblem(
                problems,
                "capstan.raft.secret-file",
                "\"" + missing + "\"",
                "no such file",
                "16..1024 bytes",
                "node.conf:1");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void aRelativePathIsShownResolved() {
        List<Problem> problems =
                problems(naming(Path.of("no-such-dir", "cluster.secret")), member());

        assertProblem(
                problems,
                "capstan.raft.secret-file",
                "\"no-such-dir/cluster.secret\"",
                "(" + Path.of("no-such-dir", "cluster.secret").toAbsolutePath() + ") no such file");
    }

    @Test
    void aShortSecretIsRefusedWithoutShowingIt() {
        Path secret = write(dir, "short.secret", "fifteen-bytes!!\n");

        List<Problem> problems = problems(naming(secret), member());

        Problem p =
                assertProblem(
                        problems,
                        "capstan.raft.secret-file",
                        "\"" + secret + "\"",
                        "holds 15 bytes",
                        "16..1024 bytes not counting trailing line breaks");
        assertFalse(p.toString().contains("fifteen"), p.toString());
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void aLongSecretIsRefused() {
        byte[] bytes = new byte[1025];
        Arrays.fill(bytes, (byte) 'k');
        Path secret =
                write(dir, "long.secret", new String(bytes, StandardCharsets.US_ASCII) + "\n");

        assertProblem(
                problems(naming(secret), member()),
                "capstan.raft.secret-file",
                "\"" + secret + "\"",
                "holds 1025 bytes",
                "16..1024 bytes");
    }

    @Test
    void aHugeFileIsRefusedBeforeItIsRead() throws Exception {
        Path secret = dir.resolve("huge.secret");
        Files.write(secret, new byte[1 << 20]);

        assertProblem(
                problems(naming(secret), member()),
                "capstan.raft.secret-file",
                "\"" + secret + "\"",
                "holds 1048576 bytes");
    }

    @Test
    void aBlankFileOrADirectoryIsRefused() throws Exception {
        Path blank = write(dir, "blank.secret", " \n\n");
        assertProblem(
                problems(naming(blank), member()),
                "capstan.raft.secret-file",
                "\"" + blank + "\"",
                "is empty",
                "16..1024 bytes");

        Path directory = Files.createDirectory(dir.resolve("secrets"));
        assertProblem(
                problems(naming(directory), member()),
                "capstan.raft.secret-file",
                "\"" + directory + "\"",
                "is a directory");
    }

    @Test
    void aSecretProblemIsReportedWithTheOthers() {
        Path file =
                write(
                        dir,
                        "node.conf",
                        secretLine(dir.resolve("nope.secret"))
                                + "capstan.api.port = 99999\n"
                                + adminTokenLine(dir));

        List<Problem> problems = problems(Optional.of(file), member());

        assertProblem(
                problems,
                "capstan.raft.secret-file",
                "\"" + dir.resolve("nope.secret") + "\"",
                "no such file");
        assertProblem(problems, "capstan.api.port", "99999", "0..65535");
        assertEquals(2, problems.size(), describe(problems));
    }

    @Test
    void aLoneLoopbackNodeWithoutAFileGetsARandomSecretOfItsOwn() {
        Settings first = SettingsLoader.load(Optional.empty(), Map.of());
        Settings second = SettingsLoader.load(Optional.empty(), Map.of());

        assertEquals(Optional.empty(), first.cluster().secretFile());
        assertEquals(ClusterSecret.EPHEMERAL_BYTES, first.transport().secret().length);
        assertFalse(
                Arrays.equals(first.transport().secret(), second.transport().secret()),
                "each start makes up its own secret, so nothing else can join");
    }
}
