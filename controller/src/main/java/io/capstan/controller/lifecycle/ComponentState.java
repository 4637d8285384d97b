package io.capstan.controller.lifecycle;

import java.util.Map;
import java.util.Set;

/**
 * The state of one component in a {@link Lifecycle}, with an explicit table of the states each one
 * may be entered from. Every state change goes through {@link #transitionTo}, so a change the table
 * does not allow fails loudly instead of leaving a component in a state nobody planned.
 *
 * <pre>
 *   NEW ──► STARTING ──► RUNNING ──► STOPPING ──► STOPPED
 *   │          │                        │            ▲
 *   │          └──────► FAILED ◄────────┘            │
 *   └────────────────────────────────────────────────┘  (stopped before it ever started)
 * </pre>
 *
 * {@code STOPPED} and {@code FAILED} are final.
 */
public enum ComponentState {
    /** Added, not started yet. */
    NEW,
    /** {@code start()} was called; its future has not completed. */
    STARTING,
    /** Started and ready. */
    RUNNING,
    /** {@code stop()} was called on a running component; its future has not completed. */
    STOPPING,
    /** Stopped, or never started because the lifecycle was stopping. */
    STOPPED,
    /** Its start failed or timed out, or its stop failed or timed out. */
    FAILED;

    private static final Map<ComponentState, Set<ComponentState>> PREDECESSORS =
            Map.of(
                    NEW, Set.of(),
                    STARTING, Set.of(NEW),
                    RUNNING, Set.of(STARTING),
                    STOPPING, Set.of(RUNNING),
                    STOPPED, Set.of(NEW, STOPPING),
                    FAILED, Set.of(STARTING, STOPPING));

    /** The states this one may be entered from; empty for {@link #NEW}, the initial state. */
    public Set<ComponentState> predecessors() {
        return PREDECESSORS.get(this);
    }

    /** Whether the table allows moving from this state to {@code next}. */
    public boolean canTransitionTo(ComponentState next) {
        return next.predecessors().contains(this);
    }

    /**
     * Returns {@code next} if the table allows moving there from this state.
     *
     * @throws IllegalStateException naming both states if it does not
     */
    public ComponentState transitionTo(ComponentState next) {
        if (!canTransitionTo(next)) {
            throw new IllegalStateException(
                    "illegal component state transition "
                            + this
                            + " -> "
                            + next
                            + " ("
                            + next
                            + " may only follow "
                            + next.predecessors()
                            + ")");
        }
        return next;
    }
}
