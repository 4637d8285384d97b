package io.capstan.controller.admin;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of the admin endpoints and of readiness, bound from {@code capstan.admin.*} and
 * {@code capstan.raft.max-leaderless}.
 *
 * @param token         the token {@code /v1/*} and {@code /metrics} require; empty only when the
 *                      web layer listens on loopback, where they are open
 * @param maxLeaderless a member that has known no leader for longer than this is not ready; a
 *                      shorter gap (an election) leaves it ready
 */
public record AdminSettings(Optional<AdminToken> token, Duration maxLeaderless) {

    public AdminSettings {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(maxLeaderless, "maxLeaderless");
        if (maxLeaderless.isNegative() || maxLeaderless.isZero()) {
            throw new IllegalArgumentException("maxLeaderless must be positive, was " + maxLeaderless);
        }
    }
}
