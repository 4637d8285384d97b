package io.capstan.controller.lifecycle;

import static io.capstan.controller.lifecycle.ComponentState.FAILED;
import static io.capstan.controller.lifecycle.ComponentState.NEW;
import static io.capstan.controller.lifecycle.ComponentState.RUNNING;
import static io.capstan.controller.lifecycle.ComponentState.STARTING;
import static io.capstan.controller.lifecycle.ComponentState.STOPPED;
import static io.capstan.controller.lifecycle.ComponentState.STOPPING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ComponentStateTest {

    /** The lifecycle the daemon promises, written out independently of the enum's own table. */
    private static final Map<ComponentState, Set<ComponentState>> ALLOWED =
            Map.of(
                    NEW, Set.of(STARTING, STOPPED),
                    STARTING, Set.of(RUNNING, FAILED),
                    RUNNING, Set.of(STOPPING),
                    STOPPING, Set.of(STOPPED, FAILED),
                    STOPPED, Set.of(),
                    FAILED, Set.of());

    @Test
    void everyPairFollowsTheTransitionTable() {
        for (ComponentState from : ComponentState.values()) {
            for (ComponentState to : ComponentState.values()) {
                boolean allowed = ALLOWED.get(from).contains(to);
                assertEquals(allowed, from.canTransitionTo(to), from + " -> " + to);
                assertEquals(allowed, to.predecessors().contains(from), from + " -> " + to);
                if (allowed) {
                    assertSame(to, from.transitionTo(to));
                } else {
                    assertThrows(
                            IllegalStateException.class,
                            () -> from.transitionTo(to),
                            from + " -> " + to);
                }
            }
        }
    }

    @Test
    void illegalTransitionNamesBothStatesAndTheAllowedPredecessors() {
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> RUNNING.transitionTo(STARTING));
        assertEquals(
                "illegal component state transition RUNNING -> STARTING (STARTING may only follow [NEW])",
                e.getMessage());
    }

    @Test
    void newIsInitialAndStoppedAndFailedAreFinal() {
        assertTrue(NEW.predecessors().isEmpty());
        for (ComponentState next : ComponentState.values()) {
            assertFalse(STOPPED.canTransitionTo(next), "STOPPED -> " + next);
            assertFalse(FAILED.canTransitionTo(next), "FAILED -> " + next);
            assertFalse(next.canTransitionTo(NEW), next + " -> NEW");
        }
    }
}
