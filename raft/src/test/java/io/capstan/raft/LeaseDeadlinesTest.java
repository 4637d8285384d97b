package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LeaseDeadlinesTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration RETRY = Duration.ofSeconds(5);
    private final LeaseDeadlines deadlines = new LeaseDeadlines();

    @Test
    void inactiveTrackerNeverExpiresAnything() {
        deadlines.restart(1, 1, T0);
        assertFalse(deadlines.active());
        assertEquals(List.of(), deadlines.due(T0.plusSeconds(100), 10, RETRY));
        assertEquals(-1, deadlines.remainingSeconds(1, T0));
    }

    @Test
    void becomingLeaderRestartsEveryCountdownInFull() {
        deadlines.activate(Map.of(1L, 10L, 2L, 20L), T0);
        assertEquals(List.of(), deadlines.due(T0.plusSeconds(9), 10, RETRY));
        assertEquals(List.of(1L), deadlines.due(T0.plusSeconds(10), 10, RETRY));
        assertEquals(10, deadlines.remainingSeconds(2, T0.plusSeconds(10)));

        // A new leader elected late starts over: lease 2 gets its full 20 s again.
        deadlines.deactivate();
        deadlines.activate(Map.of(2L, 20L), T0.plusSeconds(19));
        assertEquals(List.of(), deadlines.due(T0.plusSeconds(38), 10, RETRY));
        assertEquals(List.of(2L), deadlines.due(T0.plusSeconds(39), 10, RETRY));
    }

    @Test
    void keepAliveRestartsAndRevokeForgets() {
        deadlines.activate(Map.of(), T0);
        deadlines.restart(1, 10, T0);
        deadlines.restart(2, 10, T0);
        deadlines.restart(1, 10, T0.plusSeconds(8));
        deadlines.revoked(2);
        assertEquals(List.of(), deadlines.due(T0.plusSeconds(17), 10, RETRY));
        assertEquals(1, deadlines.remainingSeconds(1, T0.plusSeconds(17)));
        assertEquals(1, deadlines.remainingSeconds(1, T0.plusMillis(17_500)));
        assertEquals(List.of(1L), deadlines.due(T0.plusSeconds(18), 10, RETRY));
    }

    @Test
    void dueLeasesComeEarliestFirstBoundedAndArePostponed() {
        deadlines.activate(Map.of(3L, 3L, 1L, 1L, 2L, 2L), T0);
        Instant late = T0.plusSeconds(10);
        assertEquals(List.of(1L, 2L), deadlines.due(late, 2, RETRY));
        assertEquals(List.of(3L), deadlines.due(late, 2, RETRY));
        assertEquals(List.of(), deadlines.due(late.plusSeconds(4), 10, RETRY));
        assertEquals(List.of(1L, 2L, 3L), deadlines.due(late.plus(RETRY), 10, RETRY));
    }
}
