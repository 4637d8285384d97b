package io.capstan.controller.config;

import io.capstan.transport.TransportSettings;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

/**
 * The cluster secret that authenticates peer messages: read from {@code capstan.raft.secret-file}
 * while the configuration binds, so a missing or bad file stops the daemon before anything starts.
 * Problems name the file and the rule, never the secret's bytes.
 */
final class ClusterSecret {
    static final String KEY = "capstan.raft.secret-file";

    /** Length of the secret a node without a secret file makes up for itself. */
    static final int EPHEMERAL_BYTES = 32;

    // A secret file holds at most 1 KiB plus trailing line breaks; a larger file is surely the
    // wrong one, and is refused before it is read into memory.
    private static final long READ_LIMIT_BYTES = 64 << 10;
    private static final String RULE =
            "must name a readable file holding the cluster secret, "
                    + TransportSettings.MIN_SECRET_BYTES
                    + ".."
                    + TransportSettings.MAX_SECRET_BYTES
                    + " bytes not counting trailing line breaks and spaces, e.g. written by `head -c 32 /dev/urandom | base64`";

    private ClusterSecret() {}

    /**
     * Reads the secret file named by {@value #KEY}; on failure reports a problem and returns empty.
     * The caller owns the returned array and should clear it once the transport settings hold their
     * own copy.
     */
    static Optional<byte[]> read(ConfigReader r, Path file) {
        try {
            if (Files.isDirectory(file)) {
                return refuse(r, file, "is a directory");
            }
            long size = Files.size(file);
            if (size > READ_LIMIT_BYTES) {
                return refuse(r, file, "holds " + size + " bytes");
            }
            byte[] secret = TransportSettings.readSecret(file);
            if (secret.length < TransportSettings.MIN_SECRET_BYTES
                    || secret.length > TransportSettings.MAX_SECRET_BYTES) {
                Arrays.fill(secret, (byte) 0);
                return refuse(r, file, "holds " + secret.length + " bytes");
            }
            return Optional.of(secret);
        } catch (NoSuchFileException e) {
            return refuse(r, file, "no such file");
        } catch (AccessDeniedException e) {
            return refuse(r, file, "is not readable by this process");
        } catch (IOException e) {
            return refuse(r, file, "cannot be read (" + e.getMessage() + ")");
        }
    }

    /**
     * A secret for a node that may run without a secret file (alone, on loopback): random, so that
     * nothing else can join its cluster or send it Raft messages.
     */
    static byte[] ephemeral(SecureRandom random) {
        byte[] secret = new byte[EPHEMERAL_BYTES];
        random.nextBytes(secret);
        return secret;
    }

    private static Optional<byte[]> refuse(ConfigReader r, Path file, String what) {
        String where = file.isAbsolute() ? "" : " (" + file.toAbsolutePath().normalize() + ")";
        r.problem(KEY, r.valueAt(KEY), "the file" + where + " " + what + "; " + RULE);
        return Optional.empty();
    }
}
