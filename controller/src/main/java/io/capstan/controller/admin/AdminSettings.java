package io.capstan.controller.admin;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of the admin endpoints and of readiness, bound from {@code capstan.admin.*}, {@code
 * capstan.raft.max-leaderless} and {@code capstan.transport.fault-injection}.
 *
 * @param token the token {@code /v1/*} and {@code /metrics} require; empty only when the web layer
 *     listens on loopback, where they are open
 * @param maxLeaderless a member that has known no leader for longer than this is not ready; a
 *     shorter gap (an election) leaves it ready
 * @param peerFaults whether the admin API offers {@code /v1/faults/peers}, the peer transport's
 *     fault seam (for fault testing)
 */
public record AdminSettings(
        Optional<AdminToken> token, Duration maxLeaderless, boolean peerFaults) {

    public AdminSettings {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(maxLeaderless, "maxLeaderless");
        if (maxLeaderless.isNegative() || maxLeaderless.isZero()) {
            throw new IllegalArgumentException(
                    "maxLeaderless must be positive, was " + maxLeaderless);
        }
    }
}
