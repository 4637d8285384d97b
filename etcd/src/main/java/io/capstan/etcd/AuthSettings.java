package io.capstan.etcd;

import java.time.Duration;
import java.util.Objects;

/**
 * How the etcd Auth service issues and checks credentials.
 *
 * @param tokenTtl how long a token from Authenticate is accepted (etcd's default is 5 minutes)
 * @param bcryptCost the bcrypt cost of new password hashes, 4..31 (etcd's default is 10; each step
 *     doubles the time of a hash, and of a guess)
 * @param authenticatePerSecond Authenticate calls each client address may make per second, with a
 *     burst of as many (at least one); more are refused with {@code etcdserver: too many requests}
 */
public record AuthSettings(Duration tokenTtl, int bcryptCost, double authenticatePerSecond) {

    public static final AuthSettings DEFAULT = new AuthSettings(Duration.ofMinutes(5), 10, 10);

    public AuthSettings {
        Objects.requireNonNull(tokenTtl, "tokenTtl");
        if (tokenTtl.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("tokenTtl must be at least 1s, was " + tokenTtl);
        }
        if (bcryptCost < 4 || bcryptCost > 31) {
            throw new IllegalArgumentException("bcryptCost must be 4..31, was " + bcryptCost);
        }
        if (!(authenticatePerSecond > 0)) {
            throw new IllegalArgumentException(
                    "authenticatePerSecond must be positive, was " + authenticatePerSecond);
        }
    }
}
