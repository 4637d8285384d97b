package io.capstan.controller.lifecycle;

import java.util.List;
import java.util.concurrent.ScheduledFuture;

/**
 * The lifecycle's bookkeeping for one component. The final fields are fixed at build time; the
 * mutable ones are read and written only by tasks on the owning lifecycle's serial executor.
 */
final class Node {

    final Registration registration;
    final List<String> dependents;

    ComponentState state = ComponentState.NEW;

    /** Whether {@code stop()} has been called; it is called at most once. */
    boolean stopCalled;

    /**
     * Whether this component no longer holds up the stopping of its dependencies: it stopped, its
     * stop failed or timed out, or it never started.
     */
    boolean released;

    /** The pending start or stop timeout, cancelled when the operation settles first. */
    ScheduledFuture<?> timeout;

    Node(Registration registration, List<String> dependents) {
        this.registration = registration;
        this.dependents = dependents;
    }

    String name() {
        return registration.name();
    }

    void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }
}
