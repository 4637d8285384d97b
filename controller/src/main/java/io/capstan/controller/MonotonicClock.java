package io.capstan.controller;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A UTC clock that moves only with {@link System#nanoTime()}: it starts at the wall-clock time it
 * was made and never steps when the wall clock is set (by NTP, by hand, by a skewed host). What
 * measures durations across time reads it: the leader's lease countdowns and the watch progress
 * ticks, which etcd also times with the monotonic clock. Immutable and thread-safe.
 */
final class MonotonicClock extends Clock {
    private final Instant origin;
    private final long originNanos;

    private MonotonicClock(Instant origin, long originNanos) {
        this.origin = origin;
        this.originNanos = originNanos;
    }

    /** A clock reading the wall-clock time now, and from now on moving with the monotonic clock. */
    static MonotonicClock startingNow() {
        return new MonotonicClock(Instant.now(), System.nanoTime());
    }

    @Override
    public Instant instant() {
        return origin.plusNanos(System.nanoTime() - originNanos);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        if (!ZoneOffset.UTC.equals(zone)) {
            throw new UnsupportedOperationException("a monotonic clock is in UTC only");
        }
        return this;
    }
}
