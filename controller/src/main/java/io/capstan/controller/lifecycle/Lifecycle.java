package io.capstan.controller.lifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a graph of {@link Component}s in dependency order and stops it in reverse.
 *
 * <p><b>Start.</b> A component starts once every one of its dependencies is {@link
 * ComponentState#RUNNING}; components that do not depend on each other start in parallel. Each
 * start is bounded by the component's start timeout. When a start fails or times out, the component
 * becomes {@link ComponentState#FAILED}, nothing new starts, everything that started (or is still
 * starting) is stopped as described below, and only then does the start future fail with a {@link
 * LifecycleException} naming the component and the cause.
 *
 * <p><b>Stop.</b> A component's {@code stop()} is called only after every component depending on it
 * has stopped, and only after its own start settled; independent components stop in parallel. Each
 * stop is bounded by the component's stop timeout: a stop that fails or times out is logged, leaves
 * the component {@code FAILED}, and the rest of the stop carries on. Components that never started
 * go straight to {@link ComponentState#STOPPED} and are never started. {@link #stop()} is
 * idempotent and may be called from any thread, any number of times, before, during or after {@link
 * #start()}; a stop during start wins. A lifecycle cannot be started again once it has stopped.
 *
 * <p><b>Phases</b> of the lifecycle as a whole: {@code NEW -> STARTING -> RUNNING -> STOPPING ->
 * TERMINATED}; a failed start or an early stop goes from {@code NEW} or {@code STARTING} straight
 * to {@code STOPPING}.
 *
 * <p><b>Threading.</b> Every decision (state changes, calls to a component's {@code start()} and
 * {@code stop()}, timeouts, listener calls) runs as a task on one serial executor layered over the
 * scheduler. That executor owns the per-component bookkeeping, the phase and the recorded failure;
 * nothing else reads or writes them. {@link #start()}, {@link #stop()}, the completion of a
 * component's futures and the firing of timeouts only queue tasks. Other threads see component
 * states through an immutable snapshot, republished after every change. The futures returned by
 * {@code start()} and {@code stop()} complete on that executor, so callbacks chained on them
 * without an {@code *Async} variant must not block.
 */
public final class Lifecycle {

    /** Receives every component state change. */
    @FunctionalInterface
    public interface Listener {
        /**
         * Called on the lifecycle's executor, in the order the changes happen, after {@link
         * Lifecycle#states()} already shows the new state. Must not block; an exception is logged
         * and otherwise ignored.
         */
        void onTransition(String component, ComponentState from, ComponentState to);
    }

    static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
    static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);

    private enum Phase {
        NEW,
        STARTING,
        RUNNING,
        STOPPING,
        TERMINATED
    }

    /**
     * What other threads may read: states in start order, and whether the whole graph is running.
     */
    private record Snapshot(Map<String, ComponentState> states, boolean running) {}

    private final List<Node> nodes;
    private final Map<String, Node> byName;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final Executor loop;
    private final List<Listener> listeners;
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile Snapshot snapshot;

    // Owned by the serial executor.
    private Phase phase = Phase.NEW;
    private LifecycleException failure;

    private Lifecycle(
            Graph graph,
            ScheduledExecutorService scheduler,
            boolean ownsScheduler,
            List<Listener> listeners) {
        List<Node> ordered = new ArrayList<>();
        Map<String, Node> named = new HashMap<>();
        for (Registration registration : graph.startOrder()) {
            Node node = new Node(registration, graph.dependentsOf(registration.name()));
            ordered.add(node);
            named.put(node.name(), node);
        }
        this.nodes = List.copyOf(ordered);
        this.byName = Map.copyOf(named);
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
        this.loop = new SerialExecutor(scheduler);
        this.listeners = List.copyOf(listeners);
        publish();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts every component. Calling it again returns a future for the same start.
     *
     * @return completes when every component is running; fails with a {@link LifecycleException}
     *     once a failed start has been rolled back, or if the lifecycle was stopped before
     *     everything was running
     */
    public CompletableFuture<Void> start() {
        if (!started.isDone()) {
            post(this::onStartRequested);
        }
        return started.copy();
    }

    /**
     * Stops every component that started and prevents the rest from starting.
     *
     * @return completes once every component has stopped, failed to stop, or timed out stopping;
     *     never fails
     */
    public CompletableFuture<Void> stop() {
        if (!stopped.isDone()) {
            post(this::onStopRequested);
        }
        return stopped.copy();
    }

    /** An immutable snapshot of every component's state, in start order. */
    public Map<String, ComponentState> states() {
        return snapshot.states();
    }

    /**
     * The current state of one component.
     *
     * @throws IllegalArgumentException if no component has that name
     */
    public ComponentState state(String name) {
        ComponentState state = snapshot.states().get(name);
        if (state == null) {
            throw new IllegalArgumentException("unknown component '" + name + "'");
        }
        return state;
    }

    /** Whether start has completed and every component is running (and no stop has begun). */
    public boolean isRunning() {
        return snapshot.running();
    }

    private void post(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // Late completions after the lifecycle finished and shut its own scheduler down.
            if (!stopped.isDone()) {
                throw e;
            }
            LOG.debug("lifecycle terminated; ignoring a late event");
        }
    }

    private void onStartRequested() {
        if (phase != Phase.NEW) {
            return;
        }
        phase = Phase.STARTING;
        LOG.info(
                "starting {} components: {}",
                nodes.size(),
                byName.isEmpty() ? "none" : states().keySet());
        drive();
    }

    private void onStopRequested() {
        beginShutdown();
        drive();
    }

    /** Makes every change the current phase calls for; runs after every event. */
    private void drive() {
        if (phase == Phase.STARTING) {
            for (Node node : nodes) {
                if (node.state == ComponentState.NEW && dependenciesRunning(node)) {
                    launch(node);
                }
            }
            if (nodes.stream().allMatch(n -> n.state == ComponentState.RUNNING)) {
                phase = Phase.RUNNING;
                publish();
                LOG.info("all components running");
                started.complete(null);
            }
        }
        if (phase == Phase.STOPPING) {
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node node = nodes.get(i);
                if (readyToStop(node)) {
                    callStop(node);
                }
            }
            if (nodes.stream().allMatch(n -> n.released)) {
                terminate();
            }
        }
    }

    private boolean dependenciesRunning(Node node) {
        return node.registration.dependencies().stream()
                .allMatch(d -> byName.get(d).state == ComponentState.RUNNING);
    }

    private boolean readyToStop(Node node) {
        return !node.released
                && !node.stopCalled
                && node.state != ComponentState.STARTING
                && node.dependents.stream().allMatch(d -> byName.get(d).released);
    }

    private void launch(Node node) {
        transition(node, ComponentState.STARTING);
        Duration timeout = node.registration.startTimeout();
        node.timeout =
                scheduler.schedule(
                        () -> post(() -> onStartTimedOut(node)),
                        timeout.toNanos(),
                        TimeUnit.NANOSECONDS);
        invoke(node.registration.component()::start, "start")
                .whenComplete((ignored, error) -> post(() -> onStartSettled(node, error)));
    }

    private void onStartSettled(Node node, Throwable error) {
        if (node.state != ComponentState.STARTING) {
            LOG.debug("component '{}' settled its start after it had timed out", node.name());
            return;
        }
        node.cancelTimeout();
        if (error == null) {
            transition(node, ComponentState.RUNNING);
        } else {
            fail(node, unwrap(error));
        }
        drive();
    }

    private void onStartTimedOut(Node node) {
        if (node.state != ComponentState.STARTING) {
            return;
        }
        node.timeout = null;
        fail(
                node,
                new TimeoutException(
                        "start did not complete within "
                                + format(node.registration.startTimeout())));
        drive();
    }

    private void fail(Node node, Throwable cause) {
        transition(node, ComponentState.FAILED);
        LifecycleException error = new LifecycleException(node.name(), cause);
        // Our own timeout's stack trace says nothing; a component's exception may.
        LOG.error(error.getMessage(), cause instanceof TimeoutException ? null : cause);
        if (failure == null) {
            failure = error;
        }
        beginShutdown();
    }

    private void beginShutdown() {
        if (phase == Phase.STOPPING || phase == Phase.TERMINATED) {
            return;
        }
        phase = Phase.STOPPING;
        LOG.info("stopping components");
        for (Node node : nodes) {
            if (node.state == ComponentState.NEW) {
                node.released = true;
                transition(node, ComponentState.STOPPED);
            }
        }
        publish();
    }

    private void callStop(Node node) {
        node.stopCalled = true;
        if (node.state == ComponentState.RUNNING) {
            transition(node, ComponentState.STOPPING);
        }
        Duration timeout = node.registration.stopTimeout();
        node.timeout =
                scheduler.schedule(
                        () -> post(() -> onStopTimedOut(node)),
                        timeout.toNanos(),
                        TimeUnit.NANOSECONDS);
        invoke(node.registration.component()::stop, "stop")
                .whenComplete((ignored, error) -> post(() -> onStopSettled(node, error)));
    }

    private void onStopSettled(Node node, Throwable error) {
        if (node.released) {
            LOG.debug("component '{}' settled its stop after it had timed out", node.name());
            return;
        }
        node.cancelTimeout();
        node.released = true;
        Throwable cause = error == null ? null : unwrap(error);
        if (cause != null) {
            LOG.warn(
                    "component '{}' failed to stop: {}",
                    node.name(),
                    LifecycleException.describe(cause),
                    cause);
        }
        // A component whose start failed stays FAILED; its stop only released what it held.
        if (node.state == ComponentState.STOPPING) {
            transition(node, cause == null ? ComponentState.STOPPED : ComponentState.FAILED);
        }
        drive();
    }

    private void onStopTimedOut(Node node) {
        if (node.released) {
            return;
        }
        node.timeout = null;
        node.released = true;
        LOG.warn(
                "component '{}' did not stop within {}; continuing without it",
                node.name(),
                format(node.registration.stopTimeout()));
        if (node.state == ComponentState.STOPPING) {
            transition(node, ComponentState.FAILED);
        }
        drive();
    }

    private void terminate() {
        phase = Phase.TERMINATED;
        LOG.info("all components stopped");
        // Stop first: whoever learns that start failed may rely on the rollback being over.
        stopped.complete(null);
        started.completeExceptionally(
                failure != null
                        ? failure
                        : new LifecycleException(
                                "start abandoned: the lifecycle was stopped before every component was running"));
        if (ownsScheduler) {
            scheduler.shutdown();
        }
    }

    private void transition(Node node, ComponentState to) {
        ComponentState from = node.state;
        node.state = from.transitionTo(to);
        publish();
        if (to == ComponentState.RUNNING || to == ComponentState.STOPPED) {
            LOG.info("component '{}' {}", node.name(), to);
        } else {
            LOG.debug("component '{}' {} -> {}", node.name(), from, to);
        }
        for (Listener listener : listeners) {
            try {
                listener.onTransition(node.name(), from, to);
            } catch (RuntimeException e) {
                LOG.warn("lifecycle listener failed on '{}' {} -> {}", node.name(), from, to, e);
            }
        }
    }

    private void publish() {
        Map<String, ComponentState> states = new LinkedHashMap<>();
        nodes.forEach(n -> states.put(n.name(), n.state));
        snapshot = new Snapshot(Collections.unmodifiableMap(states), phase == Phase.RUNNING);
    }

    /** Calls a component method, turning a throw or a null result into a failed future. */
    private static CompletableFuture<Void> invoke(
            Supplier<CompletableFuture<Void>> call, String method) {
        try {
            CompletableFuture<Void> future = call.get();
            return future != null
                    ? future
                    : CompletableFuture.failedFuture(
                            new IllegalStateException(method + "() returned null"));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    static String format(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    /**
     * Collects components and settings; {@link #build()} validates the graph. Not thread-safe: use
     * it from one thread.
     */
    public static final class Builder {

        private record Entry(Component component, Duration startTimeout, Duration stopTimeout) {}

        private final List<Entry> entries = new ArrayList<>();
        private final List<Listener> listeners = new ArrayList<>();
        private Duration defaultStartTimeout = DEFAULT_START_TIMEOUT;
        private Duration defaultStopTimeout = DEFAULT_STOP_TIMEOUT;
        private ScheduledExecutorService scheduler;

        private Builder() {}

        /** Adds a component with the default timeouts. */
        public Builder add(Component component) {
            entries.add(new Entry(Objects.requireNonNull(component, "component"), null, null));
            return this;
        }

        /** Adds a component with its own start and stop timeouts. */
        public Builder add(Component component, Duration startTimeout, Duration stopTimeout) {
            entries.add(
                    new Entry(
                            Objects.requireNonNull(component, "component"),
                            requirePositive(startTimeout, "start timeout"),
                            requirePositive(stopTimeout, "stop timeout")));
            return this;
        }

        /**
         * Timeouts for components added without their own; 60 s to start and 30 s to stop if unset.
         */
        public Builder defaultTimeouts(Duration startTimeout, Duration stopTimeout) {
            this.defaultStartTimeout = requirePositive(startTimeout, "default start timeout");
            this.defaultStopTimeout = requirePositive(stopTimeout, "default stop timeout");
            return this;
        }

        /**
         * The executor that runs the lifecycle's tasks and timeouts. The caller keeps ownership and
         * must keep it running until {@link Lifecycle#stop()} completes. Without one, the lifecycle
         * makes a single daemon thread and shuts it down once stopped.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** Adds a listener for component state changes. */
        public Builder listener(Listener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Reads each component's name and dependencies and validates the graph.
         *
         * @throws IllegalArgumentException naming every duplicate name and unknown dependency, or
         *     the dependency cycle as a path such as {@code a -> b -> c -> a}
         */
        public Lifecycle build() {
            List<Registration> registrations = new ArrayList<>();
            for (Entry entry : entries) {
                Component component = entry.component();
                registrations.add(
                        new Registration(
                                component,
                                component.name(),
                                component.dependencies(),
                                entry.startTimeout() != null
                                        ? entry.startTimeout()
                                        : defaultStartTimeout,
                                entry.stopTimeout() != null
                                        ? entry.stopTimeout()
                                        : defaultStopTimeout));
            }
            Graph graph = Graph.of(registrations);
            if (scheduler != null) {
                return new Lifecycle(graph, scheduler, false, listeners);
            }
            return new Lifecycle(graph, ownScheduler(), true, listeners);
        }

        private static ScheduledExecutorService ownScheduler() {
            ScheduledThreadPoolExecutor executor =
                    new ScheduledThreadPoolExecutor(
                            1,
                            runnable -> {
                                Thread thread = new Thread(runnable, "lifecycle");
                                thread.setDaemon(true);
                                return thread;
                            });
            executor.setRemoveOnCancelPolicy(true);
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            return executor;
        }

        private static Duration requirePositive(Duration timeout, String what) {
            Objects.requireNonNull(timeout, what);
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + timeout);
            }
            return timeout;
        }
    }
}
