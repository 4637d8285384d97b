package io.capstan.controller.lifecycle;

import static io.capstan.controller.lifecycle.ComponentState.FAILED;
import static io.capstan.controller.lifecycle.ComponentState.NEW;
import static io.capstan.controller.lifecycle.ComponentState.RUNNING;
import static io.capstan.controller.lifecycle.ComponentState.STARTING;
import static io.capstan.controller.lifecycle.ComponentState.STOPPED;
import static io.capstan.controller.lifecycle.Harness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LifecycleStartTest {

    private final Harness harness = new Harness();

    @AfterEach
    void close() {
        harness.close();
    }

    /** Waits for a start that must fail and returns why. */
    private static LifecycleException startFailure(CompletableFuture<Void> start) {
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> start.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(LifecycleException.class, e.getCause());
    }

    @Test
    void everyDependencyIsRunningWhenItsDependentStartIsCalled() throws Exception {
        harness.daemonGraph();
        Lifecycle lifecycle = harness.build();

        lifecycle.start().get(10, TimeUnit.SECONDS);

        for (FakeComponent component : harness.components()) {
            assertEquals(1, component.starts.get(), component.name());
            for (String dependency : component.dependencies()) {
                assertEquals(
                        RUNNING,
                        component.statesAtStart.get(dependency),
                        dependency + " when " + component.name() + " started");
            }
        }
        List<String> starts = harness.journal("start:");
        assertEquals("start:web", starts.get(0));
        assertTrue(starts.indexOf("start:transport") < starts.indexOf("start:raft"));
        assertTrue(starts.indexOf("start:raft") < starts.indexOf("start:artifacts"));
        assertTrue(starts.indexOf("start:raft") < starts.indexOf("start:api"));
        assertTrue(lifecycle.isRunning());
    }

    @Test
    void independentComponentsStartInParallel() throws Exception {
        harness.ready("web");
        FakeComponent raft = harness.pending("raft", "web");
        FakeComponent artifacts = harness.pending("artifacts", "web");
        Lifecycle lifecycle = harness.build();

        CompletableFuture<Void> start = lifecycle.start();
        await(raft.startCalled);
        await(artifacts.startCalled);
        // Neither start has completed, so neither call waited for the other.
        assertEquals(STARTING, lifecycle.state("raft"));
        assertEquals(STARTING, lifecycle.state("artifacts"));
        assertFalse(start.isDone());

        raft.startResult.complete(null);
        artifacts.startResult.complete(null);
        start.get(10, TimeUnit.SECONDS);
        assertTrue(lifecycle.isRunning());
    }

    @Test
    void startWaitsForTheDependencyToBeReady() throws Exception {
        FakeComponent web = harness.pending("web");
        FakeComponent raft = harness.ready("raft", "web");
        Lifecycle lifecycle = harness.build();

        CompletableFuture<Void> start = lifecycle.start();
        await(web.startCalled);
        assertEquals(STARTING, lifecycle.state("web"));
        assertEquals(NEW, lifecycle.state("raft"));
        assertEquals(0, raft.starts.get());

        web.startResult.complete(null);
        start.get(10, TimeUnit.SECONDS);
        assertEquals(RUNNING, raft.statesAtStart.get("web"));
        assertEquals(List.of("start:web", "start:raft"), harness.journal());
    }

    @Test
    void startTimeoutRollsBackInReverseOrderAndNamesTheComponent() throws Exception {
        harness.ready("config");
        harness.ready("web", "config");
        FakeComponent raft = harness.pending("raft", "web").timeouts(Harness.SHORT, Harness.SHORT);
        FakeComponent api = harness.ready("api", "raft");
        Lifecycle lifecycle = harness.build();

        LifecycleException failure = startFailure(lifecycle.start());

        assertEquals(
                "component 'raft' failed to start: start did not complete within 100 ms",
                failure.getMessage());
        assertEquals(Optional.of("raft"), failure.component());
        assertInstanceOf(TimeoutException.class, failure.getCause());
        // Rolled back before the failure was reported: the stuck start too, so it can let go.
        assertEquals(List.of("stop:raft", "stop:web", "stop:config"), harness.journal("stop:"));
        assertEquals(0, api.starts.get());
        assertEquals(0, api.stops.get());
        assertEquals(
                Map.of("config", STOPPED, "web", STOPPED, "raft", FAILED, "api", STOPPED),
                lifecycle.states());

        // A start that completes after its timeout changes nothing.
        raft.startResult.complete(null);
        assertTrue(lifecycle.stop().isDone());
        assertEquals(FAILED, lifecycle.state("raft"));
    }

    @Test
    void failedStartRollsBackAndLaterComponentsNeverStart() throws Exception {
        harness.ready("config");
        FakeComponent web = harness.pending("web", "config");
        FakeComponent transport = harness.ready("transport", "web");
        FakeComponent raft = harness.ready("raft", "transport");
        Lifecycle lifecycle = harness.build();

        CompletableFuture<Void> start = lifecycle.start();
        await(web.startCalled);
        BindException bind = new BindException("Address already in use 127.0.0.1:7480");
        web.startResult.completeExceptionally(bind);
        LifecycleException failure = startFailure(start);

        assertEquals(
                "component 'web' failed to start: Address already in use 127.0.0.1:7480",
                failure.getMessage());
        assertEquals(Optional.of("web"), failure.component());
        assertSame(bind, failure.getCause());
        assertEquals(0, transport.starts.get());
        assertEquals(0, raft.starts.get());
        assertEquals(
                List.of("start:config", "start:web", "stop:web", "stop:config"), harness.journal());
        assertEquals(
                Map.of("config", STOPPED, "web", FAILED, "transport", STOPPED, "raft", STOPPED),
                lifecycle.states());
        assertFalse(lifecycle.isRunning());
    }

    @Test
    void rollbackWaitsForASiblingStillStartingThenStopsItBeforeItsDependency() throws Exception {
        FakeComponent web = harness.ready("web");
        FakeComponent raft = harness.pending("raft", "web");
        FakeComponent artifacts = harness.pending("artifacts", "web");
        Lifecycle lifecycle = harness.build();

        CompletableFuture<Void> start = lifecycle.start();
        await(raft.startCalled);
        await(artifacts.startCalled);
        raft.startResult.completeExceptionally(new IllegalStateException("no quorum"));
        await(raft.stopCalled);
        // The failure is being rolled back, but web must wait until artifacts has let go of it.
        assertFalse(start.isDone());
        assertEquals(0, web.stops.get());
        assertEquals(0, artifacts.stops.get());

        artifacts.startResult.complete(null);
        LifecycleException failure = startFailure(start);

        assertEquals("component 'raft' failed to start: no quorum", failure.getMessage());
        // artifacts was stopped only once its start had settled, and web only after both let go.
        assertEquals(ComponentState.STOPPING, artifacts.statesAtStop.get("artifacts"));
        assertEquals(STOPPED, web.statesAtStop.get("artifacts"));
        assertEquals(FAILED, web.statesAtStop.get("raft"));
        assertEquals("stop:web", harness.journal("stop:").get(2));
        assertEquals(
                Map.of("web", STOPPED, "raft", FAILED, "artifacts", STOPPED), lifecycle.states());
    }

    @Test
    void startThatThrowsOrReturnsNullIsAFailedStart() throws Exception {
        Component throwing =
                component(
                        "web",
                        () -> {
                            throw new IllegalStateException("port closed");
                        });
        LifecycleException thrown =
                startFailure(
                        Lifecycle.builder()
                                .scheduler(harness.scheduler)
                                .add(throwing)
                                .build()
                                .start());
        assertEquals("component 'web' failed to start: port closed", thrown.getMessage());

        Component nothing = component("raft", () -> null);
        LifecycleException nulled =
                startFailure(
                        Lifecycle.builder()
                                .scheduler(harness.scheduler)
                                .add(nothing)
                                .build()
                                .start());
        assertEquals(
                "component 'raft' failed to start: start() returned null", nulled.getMessage());
    }

    /** A dependency-free component with the given start and a stop that completes at once. */
    private static Component component(String name, Supplier<CompletableFuture<Void>> start) {
        return new Component() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Set<String> dependencies() {
                return Set.of();
            }

            @Override
            public CompletableFuture<Void> start() {
                return start.get();
            }

            @Override
            public CompletableFuture<Void> stop() {
                return CompletableFuture.completedFuture(null);
            }
        };
    }

    @Test
    void startTwiceStartsEachComponentOnce() throws Exception {
        harness.daemonGraph();
        Lifecycle lifecycle = harness.build();

        CompletableFuture<Void> first = lifecycle.start();
        CompletableFuture<Void> second = lifecycle.start();
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        lifecycle.start().get(10, TimeUnit.SECONDS);

        for (FakeComponent component : harness.components()) {
            assertEquals(1, component.starts.get(), component.name());
        }
    }

    @Test
    void statesAreImmutableSnapshotsInStartOrderThroughEveryPhase() throws Exception {
        harness.ready("config");
        FakeComponent web = harness.pending("web", "config");
        harness.ready("raft", "web");
        Lifecycle lifecycle = harness.build();

        Map<String, ComponentState> before = lifecycle.states();
        assertEquals(List.of("config", "web", "raft"), List.copyOf(before.keySet()));
        assertEquals(Map.of("config", NEW, "web", NEW, "raft", NEW), before);
        assertFalse(lifecycle.isRunning());

        CompletableFuture<Void> start = lifecycle.start();
        await(web.startCalled);
        Map<String, ComponentState> during = lifecycle.states();
        assertEquals(Map.of("config", RUNNING, "web", STARTING, "raft", NEW), during);
        assertFalse(lifecycle.isRunning());

        web.startResult.complete(null);
        start.get(10, TimeUnit.SECONDS);
        Map<String, ComponentState> running = lifecycle.states();
        assertEquals(Map.of("config", RUNNING, "web", RUNNING, "raft", RUNNING), running);
        assertEquals(List.of("config", "web", "raft"), List.copyOf(running.keySet()));
        assertTrue(lifecycle.isRunning());

        lifecycle.stop().get(10, TimeUnit.SECONDS);
        assertEquals(
                Map.of("config", STOPPED, "web", STOPPED, "raft", STOPPED), lifecycle.states());
        assertFalse(lifecycle.isRunning());

        // Earlier snapshots kept what they saw and cannot be changed.
        assertEquals(Map.of("config", RUNNING, "web", STARTING, "raft", NEW), during);
        assertThrows(UnsupportedOperationException.class, () -> during.put("web", RUNNING));
        IllegalArgumentException unknown =
                assertThrows(IllegalArgumentException.class, () -> lifecycle.state("etcd"));
        assertEquals("unknown component 'etcd'", unknown.getMessage());
    }

    @Test
    void listenersSeeEveryTransitionInOrderAndOneThatThrowsChangesNothing() throws Exception {
        harness.ready("web");
        List<String> seen = new ArrayList<>();
        Lifecycle lifecycle =
                harness.build(
                        harness.builder()
                                .listener(
                                        (name, from, to) -> {
                                            throw new IllegalStateException("listener bug");
                                        })
                                .listener(
                                        (name, from, to) ->
                                                seen.add(name + " " + from + "->" + to)));

        lifecycle.start().get(10, TimeUnit.SECONDS);
        lifecycle.stop().get(10, TimeUnit.SECONDS);

        // Listeners run on the lifecycle's executor, which the completed stop happens-after.
        assertEquals(
                List.of(
                        "web NEW->STARTING",
                        "web STARTING->RUNNING",
                        "web RUNNING->STOPPING",
                        "web STOPPING->STOPPED"),
                seen);
    }
}
