package io.capstan.controller.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.NodeStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The leader check against a clock the test moves. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LeaderWatchTest {
    private static final Duration MAX = Duration.ofSeconds(10);
    private static final NodeStatus LED =
            new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.of("n2"), 9, 9);
    private static final NodeStatus ALONE =
            new NodeStatus("n1", NodeStatus.Role.CANDIDATE, 4, Optional.empty(), 9, 9);

    /** A clock that moves only when told; one test thread. */
    private static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2030-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final ManualClock clock = new ManualClock();
    private final LeaderWatch watch = new LeaderWatch(clock, MAX);

    @Test
    void aMemberThatNeverKnewALeaderHasNone() {
        assertFalse(watch.hasLeader(ALONE));
        assertEquals(Optional.empty(), watch.sinceLeader(ALONE));
    }

    @Test
    void aKnownLeaderPassesAtOnceWithZeroSinceContact() {
        assertTrue(watch.hasLeader(LED));
        assertEquals(Optional.of(Duration.ZERO), watch.sinceLeader(LED));
    }

    @Test
    void aLostLeaderPassesUpToTheLimitThenFails() {
        watch.observe(LED);
        clock.advance(Duration.ofSeconds(4));
        assertTrue(
                watch.hasLeader(ALONE),
                "an election shorter than the limit leaves the member ready");
        assertEquals(Optional.of(Duration.ofSeconds(4)), watch.sinceLeader(ALONE));

        clock.advance(Duration.ofSeconds(6));
        assertTrue(watch.hasLeader(ALONE), "exactly the limit still passes");

        clock.advance(Duration.ofMillis(1));
        assertFalse(watch.hasLeader(ALONE));
        assertEquals(Optional.of(Duration.ofMillis(10_001)), watch.sinceLeader(ALONE));
    }

    @Test
    void aNewLeaderResetsTheGap() {
        watch.observe(LED);
        clock.advance(Duration.ofSeconds(30));
        assertFalse(watch.hasLeader(ALONE));

        watch.observe(LED);
        clock.advance(Duration.ofSeconds(1));
        assertTrue(watch.hasLeader(ALONE));
        assertEquals(Optional.of(Duration.ofSeconds(1)), watch.sinceLeader(ALONE));
    }

    @Test
    void anObservationRecordedLateNeverMovesTheLastContactBack() {
        Instant start = clock.instant();
        // Two threads' samples: one taken at +10s, then one taken at +7s but recorded after it.
        java.util.Iterator<Instant> ticks =
                java.util.List.of(
                                start.plusSeconds(10), start.plusSeconds(7), start.plusSeconds(12))
                        .iterator();
        LeaderWatch racing =
                new LeaderWatch(
                        new Clock() {
                            @Override
                            public ZoneOffset getZone() {
                                return ZoneOffset.UTC;
                            }

                            @Override
                            public Clock withZone(java.time.ZoneId zone) {
                                return this;
                            }

                            @Override
                            public Instant instant() {
                                return ticks.next();
                            }
                        },
                        MAX);

        racing.observe(LED);
        racing.observe(LED);

        assertEquals(Optional.of(Duration.ofSeconds(2)), racing.sinceLeader(ALONE));
    }
}
