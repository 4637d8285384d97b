package io.capstan.artifacts;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * An artifact's name: the SHA-256 of its bytes, written {@code sha256:<64 lower-case hex digits>}
 * as the API and the Raft records spell it. The store names each file by the hex digits alone.
 * Immutable.
 */
record Digest(String hex) {
    static final String PREFIX = "sha256:";
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    Digest {
        if (hex == null || !HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("a digest is 64 lower-case hex digits, got " + hex);
        }
    }

    /**
     * @throws IllegalArgumentException naming the expected form when {@code text} is not {@code
     *     sha256:} and 64 lower-case hex digits
     */
    static Digest parse(String text) {
        if (text == null
                || !text.startsWith(PREFIX)
                || !HEX.matcher(text.substring(PREFIX.length())).matches()) {
            throw new IllegalArgumentException(
                    "digest must be sha256: and 64 lower-case hex digits, got "
                            + (text == null ? "nothing" : shortened(text)));
        }
        return new Digest(text.substring(PREFIX.length()));
    }

    /** Whether {@code name} is 64 lower-case hex digits, as store files are named. */
    static boolean isHex(String name) {
        return HEX.matcher(name).matches();
    }

    static Digest of(byte[] sha256) {
        return new Digest(HexFormat.of().formatHex(sha256));
    }

    static Digest of(MessageDigest finished) {
        return of(finished.digest());
    }

    /** A fresh SHA-256 hasher. */
    static MessageDigest hasher() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return PREFIX + hex;
    }

    private static String shortened(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }
}
