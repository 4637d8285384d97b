package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class TransportSettingsTest {

    private static final byte[] SECRET = "0123456789abcdef0123".getBytes(StandardCharsets.US_ASCII);

    @TempDir Path dir;

    @Test
    void badValuesAreRefusedNamingTheKeyAndTheValue() {
        assertMessage(
                "secret must be 16..1024 bytes, was 3 bytes",
                () ->
                        new TransportSettings(
                                new byte[3],
                                Duration.ofSeconds(1),
                                4L << 20,
                                Duration.ofSeconds(1)));
        assertMessage(
                "request-timeout must be positive, was PT0S",
                () ->
                        new TransportSettings(
                                SECRET, Duration.ZERO, 4L << 20, Duration.ofSeconds(1)));
        assertMessage(
                "max-message-bytes must be 2097152..1073741824, was 1024",
                () ->
                        new TransportSettings(
                                SECRET, Duration.ofSeconds(1), 1024, Duration.ofSeconds(1)));
        assertMessage(
                "connect-timeout must be positive, was PT-1S",
                () ->
                        new TransportSettings(
                                SECRET, Duration.ofSeconds(1), 4L << 20, Duration.ofSeconds(-1)));
    }

    @Test
    void secretIsCopiedInAndOutAndNeverPrinted() {
        byte[] secret = SECRET.clone();
        TransportSettings settings =
                new TransportSettings(
                        secret, Duration.ofSeconds(1), 4L << 20, Duration.ofSeconds(1));
        secret[0] = 'X';
        settings.secret()[1] = 'Y';

        assertArrayEquals(SECRET, settings.secret());
        assertFalse(settings.toString().contains(new String(SECRET, StandardCharsets.US_ASCII)));
        assertTrue(settings.toString().contains("redacted"));
        assertEquals(
                settings,
                new TransportSettings(
                        SECRET, Duration.ofSeconds(1), 4L << 20, Duration.ofSeconds(1)));
    }

    @Test
    void secretFileLosesTrailingWhitespaceOnly() throws IOException {
        Path file =
                Files.writeString(
                        dir.resolve("secret"),
                        " spaced secret value \r\n\n",
                        StandardCharsets.US_ASCII);

        assertArrayEquals(
                " spaced secret value".getBytes(StandardCharsets.US_ASCII),
                TransportSettings.readSecret(file));
    }

    @Test
    void emptySecretFileIsAnError() throws IOException {
        Path file = Files.write(dir.resolve("secret"), "\n \n".getBytes(StandardCharsets.US_ASCII));

        IOException e = assertThrows(IOException.class, () -> TransportSettings.readSecret(file));
        assertTrue(e.getMessage().contains("is empty"), e.getMessage());
    }

    private static void assertMessage(String expected, Runnable construction) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, construction::run);
        assertEquals(expected, e.getMessage());
    }
}
