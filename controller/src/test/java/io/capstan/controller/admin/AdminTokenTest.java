package io.capstan.controller.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AdminTokenTest {
    private static final String TOKEN = "Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OQ==";

    @TempDir Path dir;

    @Test
    void matchesOnlyTheSameToken() {
        AdminToken token = AdminToken.of(TOKEN);

        assertTrue(token.matches(TOKEN));
        assertFalse(token.matches(TOKEN.substring(1)));
        assertFalse(token.matches(TOKEN + "x"));
        assertFalse(token.matches(TOKEN.toLowerCase()));
        assertFalse(token.matches(""));
        assertFalse(token.matches(null));
        assertEquals("AdminToken[redacted]", token.toString());
    }

    @Test
    void refusesTokensOutsideTheRuleWithoutShowingThem() {
        IllegalArgumentException shortOne =
                assertThrows(IllegalArgumentException.class, () -> AdminToken.of("x".repeat(15)));
        assertEquals("holds 15 characters", shortOne.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdminToken.of("x".repeat(1025)));
        IllegalArgumentException spaced =
                assertThrows(
                        IllegalArgumentException.class, () -> AdminToken.of("sixteen chars ok!"));
        assertEquals("holds 17 characters, not all visible ASCII", spaced.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdminToken.of("é".repeat(20)));
        AdminToken.of("x".repeat(16));
        AdminToken.of("x".repeat(1024));
    }

    @Test
    void readsAFileWithoutTrailingLineBreaksAndSpaces() throws Exception {
        Path file = Files.writeString(dir.resolve("admin.token"), TOKEN + " \r\n\n");

        assertEquals(TOKEN, AdminToken.read(file));
    }

    @Test
    void refusesAFileFarTooLargeBeforeReadingIt() throws Exception {
        Path file = Files.write(dir.resolve("big.token"), new byte[1 << 20]);

        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AdminToken.read(file));
        assertEquals("holds 1048576 bytes", e.getMessage());
    }
}
