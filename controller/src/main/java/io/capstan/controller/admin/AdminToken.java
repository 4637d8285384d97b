package io.capstan.controller.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * The bearer token the admin endpoints require. Only its SHA-256 is kept, and a presented token is
 * hashed and compared with {@link MessageDigest#isEqual}, so the comparison takes the same time
 * whatever the token's length and wherever it differs, and the token itself is never in memory
 * after binding. Immutable.
 *
 * <p>A token is {@value #MIN_CHARS}..{@value #MAX_CHARS} visible ASCII characters: it travels in an
 * HTTP header, where spaces and control characters do not survive.
 */
public final class AdminToken {
    public static final int MIN_CHARS = 16;
    public static final int MAX_CHARS = 1024;

    /** What a token file must hold, for error messages. */
    public static final String RULE =
            MIN_CHARS
                    + ".."
                    + MAX_CHARS
                    + " visible ASCII characters not counting trailing line breaks and spaces,"
                    + " e.g. written by `head -c 32 /dev/urandom | base64`";

    // A token file holds at most 1 KiB plus trailing line breaks; a larger file is surely the wrong
    // one.
    private static final long READ_LIMIT_BYTES = 64 << 10;

    private final byte[] digest;

    private AdminToken(byte[] digest) {
        this.digest = digest;
    }

    /**
     * @throws IllegalArgumentException when {@code token} breaks {@link #RULE}, with a message for
     *     the caller to put after what holds the token ("holds 5 characters"); it never shows the
     *     token
     */
    public static AdminToken of(String token) {
        Objects.requireNonNull(token, "token");
        if (!isValid(token)) {
            throw new IllegalArgumentException(
                    "holds "
                            + token.length()
                            + " characters"
                            + (isVisibleAscii(token) ? "" : ", not all visible ASCII"));
        }
        return new AdminToken(sha256(token));
    }

    /**
     * Reads a token file: its text without trailing line breaks and spaces, as {@code base64}
     * writes it. The daemon and the CLI read the same files this way.
     *
     * @throws IOException when the file cannot be read, or is far too large to be one
     * @throws IllegalArgumentException when the text breaks {@link #RULE}, as {@link #of} says
     */
    public static String read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > READ_LIMIT_BYTES) {
            throw new IllegalArgumentException("holds " + size + " bytes");
        }
        String text = Files.readString(file, StandardCharsets.ISO_8859_1).stripTrailing();
        of(text);
        return text;
    }

    /** Whether {@code presented} is this token; constant time. */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(digest, sha256(presented));
    }

    @Override
    public String toString() {
        return "AdminToken[redacted]";
    }

    private static boolean isValid(String token) {
        return token.length() >= MIN_CHARS && token.length() <= MAX_CHARS && isVisibleAscii(token);
    }

    private static boolean isVisibleAscii(String text) {
        return text.chars().allMatch(c -> c >= 0x21 && c <= 0x7e);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.ISO_8859_1));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }
}
