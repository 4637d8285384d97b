package io.capstan.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * Immutable settings of the peer transport, bound from {@code capstan.transport.*}.
 *
 * <p>The constructor rejects values the transport cannot honour with an {@link
 * IllegalArgumentException} whose message starts with the offending key. The secret is copied in
 * and out, and never printed by {@link #toString()}.
 *
 * <p>Outbound calls take their deadlines from Ratis's own request timeouts in the {@code
 * RaftProperties} (server and client); {@code requestTimeout} bounds what the transport itself
 * holds on the receiving side.
 *
 * @param secret the cluster secret every member presents on every peer request; {@value
 *     #MIN_SECRET_BYTES}..{@value #MAX_SECRET_BYTES} bytes
 * @param requestTimeout how long a received client request may wait for the earlier requests of its
 *     client (ordered async) before it is failed as retryable; set it at least as long as Ratis's
 *     client request timeout
 * @param maxMessageBytes the largest peer request body; Ratis's append batches and snapshot chunks
 *     are sized below it (see {@link PeerTransport#configure}); {@value
 *     #MIN_MESSAGE_BYTES}..{@value #MAX_MESSAGE_BYTES}
 * @param connectTimeout how long opening a connection to a peer may take
 */
public record TransportSettings(
        byte[] secret, Duration requestTimeout, long maxMessageBytes, Duration connectTimeout) {

    public static final int MIN_SECRET_BYTES = 16;
    public static final int MAX_SECRET_BYTES = 1024;
    public static final long MIN_MESSAGE_BYTES = 2L << 20;

    /** Ratis sizes its buffers with ints; stay well below that. */
    public static final long MAX_MESSAGE_BYTES = 1L << 30;

    public TransportSettings {
        Objects.requireNonNull(secret, "secret");
        if (secret.length < MIN_SECRET_BYTES || secret.length > MAX_SECRET_BYTES) {
            throw new IllegalArgumentException(
                    "secret must be "
                            + MIN_SECRET_BYTES
                            + ".."
                            + MAX_SECRET_BYTES
                            + " bytes, was "
                            + secret.length
                            + " bytes");
        }
        secret = secret.clone();
        positive("request-timeout", requestTimeout);
        if (maxMessageBytes < MIN_MESSAGE_BYTES || maxMessageBytes > MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException(
                    "max-message-bytes must be "
                            + MIN_MESSAGE_BYTES
                            + ".."
                            + MAX_MESSAGE_BYTES
                            + ", was "
                            + maxMessageBytes);
        }
        positive("connect-timeout", connectTimeout);
    }

    /**
     * Reads a secret file: its bytes without trailing line breaks and spaces, so a file written by
     * {@code openssl rand -hex 32 > secret} works as is.
     *
     * @throws IOException if the file cannot be read or holds nothing but whitespace
     */
    public static byte[] readSecret(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int end = bytes.length;
        while (end > 0 && isTrailingSpace(bytes[end - 1])) {
            end--;
        }
        if (end == 0) {
            throw new IOException("cluster secret file " + file + " is empty");
        }
        return Arrays.copyOf(bytes, end);
    }

    /** A copy of the secret. */
    @Override
    public byte[] secret() {
        return secret.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransportSettings other
                && Arrays.equals(secret, other.secret)
                && requestTimeout.equals(other.requestTimeout)
                && maxMessageBytes == other.maxMessageBytes
                && connectTimeout.equals(other.connectTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                Arrays.hashCode(secret), requestTimeout, maxMessageBytes, connectTimeout);
    }

    @Override
    public String toString() {
        return "TransportSettings[secret=("
                + secret.length
                + " bytes, redacted), requestTimeout="
                + requestTimeout
                + ", maxMessageBytes="
                + maxMessageBytes
                + ", connectTimeout="
                + connectTimeout
                + "]";
    }

    private static void positive(String key, Duration value) {
        Objects.requireNonNull(value, key);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + " must be positive, was " + value);
        }
    }

    private static boolean isTrailingSpace(byte b) {
        return b == '\n' || b == '\r' || b == ' ' || b == '\t';
    }
}
