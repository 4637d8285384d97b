package io.capstan.controller.lifecycle;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A part of the daemon that a {@link Lifecycle} starts and stops.
 *
 * <p>Contract, as the lifecycle uses it:
 *
 * <ul>
 *   <li>{@link #name()} and {@link #dependencies()} are read once, when the lifecycle is built, and
 *       must not change afterwards.
 *   <li>{@link #start()} is called at most once, only after every dependency is {@link
 *       ComponentState#RUNNING}. Its future completes when the component is <em>ready</em> (its
 *       readiness latch), or fails with the reason it cannot become ready.
 *   <li>{@link #stop()} is called at most once, and only if {@code start()} was called: after the
 *       start future settled (or its timeout passed) and after every component depending on this
 *       one stopped. It is called even when the start failed or timed out, so that whatever the
 *       start acquired part-way is released. Its future completes once the component has stopped.
 *   <li>Both methods are called on the lifecycle's executor and must return promptly: work that
 *       takes time belongs behind the returned future, on the component's own threads. A method
 *       that throws counts as a failed future.
 * </ul>
 */
public interface Component {

    /**
     * Unique, non-blank name within one lifecycle; used in logs, errors and {@code /health/ready}.
     */
    String name();

    /** Names of the components that must be running before this one starts. */
    Set<String> dependencies();

    /** Starts the component; the future completes when it is ready to serve its dependents. */
    CompletableFuture<Void> start();

    /** Stops the component; the future completes when it has stopped. */
    CompletableFuture<Void> stop();
}
