package io.capstan.raft;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The leader's lease countdowns: the step logic of lease expiry, with time passed in.
 *
 * <p>States: inactive (this member is not the leader; nothing is tracked) and active. On {@link
 * #activate} every existing lease starts a full countdown of its granted TTL, so a change of leader
 * extends leases and never expires one early. While active, a grant or keep-alive restarts the
 * lease's countdown and a revoke forgets it. {@link #due} names the leases whose time is up and
 * postpones them by a retry delay, so one proposal is not repeated every tick while it travels
 * through the log.
 *
 * <p>Not thread-safe: one thread owns an instance ({@link LeaseExpiry}'s executor).
 */
final class LeaseDeadlines {
    private record Countdown(long ttlSeconds, Instant deadline) {}

    private final Map<Long, Countdown> countdowns = new HashMap<>();
    private boolean active;

    boolean active() {
        return active;
    }

    /** Becomes the leader's tracker for {@code leases} (id to granted TTL in seconds). */
    void activate(Map<Long, Long> leases, Instant now) {
        active = true;
        countdowns.clear();
        leases.forEach((id, ttl) -> restart(id, ttl, now));
    }

    void deactivate() {
        active = false;
        countdowns.clear();
    }

    /** A grant or keep-alive was applied. */
    void restart(long id, long ttlSeconds, Instant now) {
        if (active) {
            countdowns.put(id, new Countdown(ttlSeconds, now.plusSeconds(ttlSeconds)));
        }
    }

    void revoked(long id) {
        countdowns.remove(id);
    }

    /**
     * Leases whose countdown ended at or before {@code now}, earliest first, at most {@code max};
     * each is postponed to {@code now + retryAfter}.
     */
    List<Long> due(Instant now, int max, Duration retryAfter) {
        if (!active) {
            return List.of();
        }
        List<Map.Entry<Long, Countdown>> expired = new ArrayList<>();
        for (Map.Entry<Long, Countdown> e : countdowns.entrySet()) {
            if (!e.getValue().deadline().isAfter(now)) {
                expired.add(e);
            }
        }
        expired.sort(
                Comparator.comparing((Map.Entry<Long, Countdown> e) -> e.getValue().deadline())
                        .thenComparing(Map.Entry::getKey));
        List<Long> ids = new ArrayList<>();
        for (Map.Entry<Long, Countdown> e : expired.subList(0, Math.min(max, expired.size()))) {
            ids.add(e.getKey());
            countdowns.put(
                    e.getKey(), new Countdown(e.getValue().ttlSeconds(), now.plus(retryAfter)));
        }
        return ids;
    }

    /**
     * Whole seconds left on a tracked lease, rounded up; -1 when this tracker does not know it
     * (inactive, or the lease is gone).
     */
    long remainingSeconds(long id, Instant now) {
        Countdown countdown = countdowns.get(id);
        if (countdown == null) {
            return -1;
        }
        Duration left = Duration.between(now, countdown.deadline());
        if (left.isNegative()) {
            return 0;
        }
        return left.getSeconds() + (left.getNano() > 0 ? 1 : 0);
    }
}
