package io.capstan.etcd;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;
import com.google.common.base.Suppliers;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * bcrypt hashes of users' passwords: made here, on the member that takes the request, so that only
 * the salted hash enters the Raft log, the snapshots and the other members. Passwords longer than
 * bcrypt's 72 bytes are first reduced by SHA-512, so no part of one is ignored. Thread-safe:
 * immutable but for the decoy hash, made once on first use.
 */
final class Passwords {
    private static final BCrypt.Version VERSION = BCrypt.Version.VERSION_2A;

    private final int cost;
    private final BCrypt.Hasher hasher;
    private final BCrypt.Verifyer verifier;

    /**
     * Checked against when there is no hash to check, so an unknown user costs as long as a known
     * one. Made on first use: a hash at cost 10 takes most of a second of a cold JVM's start.
     */
    private final Supplier<byte[]> decoy;

    Passwords(int cost) {
        this.cost = cost;
        this.hasher = BCrypt.with(VERSION, LongPasswordStrategies.hashSha512(VERSION));
        this.verifier = BCrypt.verifyer(VERSION, LongPasswordStrategies.hashSha512(VERSION));
        this.decoy = Suppliers.memoize(() -> hash("decoy").getBytes(StandardCharsets.UTF_8));
    }

    /** A new salted hash in modular crypt form ({@code $2a$...}); slow on purpose. */
    String hash(String password) {
        return new String(
                hasher.hash(cost, password.getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
    }

    /**
     * Whether {@code password} matches {@code hash}; an empty or malformed hash matches nothing.
     */
    boolean matches(String password, String hash) {
        byte[] given = password.getBytes(StandardCharsets.UTF_8);
        if (hash.isEmpty()) {
            verifier.verify(given, decoy.get());
            return false;
        }
        return verifier.verify(given, hash.getBytes(StandardCharsets.UTF_8)).verified;
    }

    /** Whether a hash a client made itself (etcd's {@code hashedPassword}) is a bcrypt hash. */
    static boolean isHash(String hash) {
        try {
            return BCrypt.verifyer()
                    .verify(new byte[0], hash.getBytes(StandardCharsets.UTF_8))
                    .validFormat;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
