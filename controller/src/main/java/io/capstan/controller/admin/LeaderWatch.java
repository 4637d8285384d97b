package io.capstan.controller.admin;

import io.capstan.raft.NodeStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * When this member last knew a leader. Ratis forgets the leader as soon as a member starts an
 * election (pre-vote included), which it does once it has heard nothing from the leader for an
 * election timeout; so "knew a leader at T" means "heard from one shortly before T". The daemon
 * samples the status on a schedule ({@link #observe}); every readiness probe observes too, so a
 * probe never reports a leader older than what it sees itself.
 *
 * <p>Thread-safe: the one mutable value only moves forward, by compare-and-set.
 */
final class LeaderWatch {

    private final Clock clock;
    private final Duration maxLeaderless;

    /** The latest instant a leader was known; null until the first. */
    private final AtomicReference<Instant> lastLeader = new AtomicReference<>();

    LeaderWatch(Clock clock, Duration maxLeaderless) {
        this.clock = clock;
        this.maxLeaderless = maxLeaderless;
    }

    /** Records whether {@code status}, taken just now, knows a leader. */
    void observe(NodeStatus status) {
        if (status.leaderId().isPresent()) {
            Instant now = clock.instant();
            lastLeader.accumulateAndGet(
                    now, (last, seen) -> last == null || seen.isAfter(last) ? seen : last);
        }
    }

    /**
     * Whether this member, whose status is {@code now}, knows a leader or knew one at most {@code
     * maxLeaderless} ago. A member that never knew one has none.
     */
    boolean hasLeader(NodeStatus now) {
        return sinceLeader(now).map(gap -> gap.compareTo(maxLeaderless) <= 0).orElse(false);
    }

    /**
     * How long ago this member last knew a leader: zero while it knows one; empty if it never did.
     */
    Optional<Duration> sinceLeader(NodeStatus now) {
        observe(now);
        Instant last = lastLeader.get();
        if (last == null) {
            return Optional.empty();
        }
        Duration gap = Duration.between(last, clock.instant());
        return Optional.of(gap.isNegative() ? Duration.ZERO : gap);
    }
}
