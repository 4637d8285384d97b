package io.capstan.controller.lifecycle;

import static io.capstan.controller.lifecycle.ComponentState.FAILED;
import static io.capstan.controller.lifecycle.ComponentState.STOPPED;
import static io.capstan.controller.lifecycle.Harness.await;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LifecycleStopTest {

    private final Harness harness = new Harness();

    @AfterEach
    void close() {
        harness.close();
    }

    private Lifecycle started() throws Exception {
        Lifecycle lifecycle = harness.build();
        lifecycle.start().get(10, TimeUnit.SECONDS);
        return lifecycle;
    }

    @Test
    void stopRunsInReverseDependencyOrder() throws Exception {
        harness.daemonGraph();
        Lifecycle lifecycle = started();

        lifecycle.stop().get(10, TimeUnit.SECONDS);

        List<String> stops = harness.journal("stop:");
        assertEquals(harness.components().size(), stops.size());
        for (FakeComponent component : harness.components()) {
            assertEquals(1, component.stops.get(), component.name());
            for (String dependency : component.dependencies()) {
                assertTrue(
                        stops.indexOf("stop:" + component.name())
                                < stops.indexOf("stop:" + dependency),
                        component.name() + " stops before " + dependency + ": " + stops);
                FakeComponent stoppedLater =
                        harness.components().stream()
                                .filter(c -> c.name().equals(dependency))
                                .findFirst()
                                .orElseThrow();
                assertEquals(
                        STOPPED,
                        stoppedLater.statesAtStop.get(component.name()),
                        component.name() + " when " + dependency + " stop was called");
            }
        }
        assertEquals("stop:web", stops.get(stops.size() - 1));
        lifecycle.states().values().forEach(state -> assertEquals(STOPPED, state));
    }

    @Test
    void aDependencyWaitsUntilItsDependentHasFinishedStopping() throws Exception {
        FakeComponent web = harness.ready("web");
        FakeComponent raft = harness.slowToStop("raft", "web");
        Lifecycle lifecycle = started();

        CompletableFuture<Void> stop = lifecycle.stop();
        await(raft.stopCalled);
        assertEquals(ComponentState.STOPPING, lifecycle.state("raft"));
        assertEquals(ComponentState.RUNNING, lifecycle.state("web"));
        assertEquals(0, web.stops.get());
        assertFalse(stop.isDone());

        raft.stopResult.complete(null);
        stop.get(10, TimeUnit.SECONDS);
        assertEquals(STOPPED, web.statesAtStop.get("raft"));
        assertEquals(List.of("stop:raft", "stop:web"), harness.journal("stop:"));
    }

    @Test
    void stopFromEightThreadsAtOnceStopsEachComponentExactlyOnce() throws Exception {
        harness.daemonGraph();
        FakeComponent slow = harness.slowToStop("metrics", "web");
        Lifecycle lifecycle = started();

        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<CompletableFuture<Void>>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                calls.add(
                        callers.submit(
                                () -> {
                                    go.await();
                                    return lifecycle.stop();
                                }));
            }
            go.countDown();
            List<CompletableFuture<Void>> stops = new ArrayList<>();
            for (Future<CompletableFuture<Void>> call : calls) {
                stops.add(call.get(10, TimeUnit.SECONDS));
            }
            await(slow.stopCalled);
            stops.forEach(stop -> assertFalse(stop.isDone()));

            slow.stopResult.complete(null);
            for (CompletableFuture<Void> stop : stops) {
                stop.get(10, TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
        }

        assertTrue(lifecycle.stop().isDone());
        for (FakeComponent component : harness.components()) {
            assertEquals(1, component.stops.get(), component.name());
            assertEquals(STOPPED, lifecycle.state(component.name()));
        }
    }

    @Test
    void stopDuringStartStopsWhatStartedAndNeverStartsTheRest() throws Exception {
        harness.ready("config");
        FakeComponent web = harness.pending("web", "config");
        FakeComponent raft = harness.ready("raft", "web");
        Lifecycle lifecycle = harness.build();

        CompletableFuture<Void> start = lifecycle.start();
        await(web.startCalled);
        CompletableFuture<Void> stop = lifecycle.stop();
        web.startResult.complete(null);
        stop.get(10, TimeUnit.SECONDS);

        ExecutionException e =
                assertThrows(ExecutionException.class, () -> start.get(10, TimeUnit.SECONDS));
        LifecycleException abandoned = assertInstanceOf(LifecycleException.class, e.getCause());
        assertEquals(Optional.empty(), abandoned.component());
        assertEquals(
                "start abandoned: the lifecycle was stopped before every component was running",
                abandoned.getMessage());
        assertEquals(
                List.of("start:config", "start:web", "stop:web", "stop:config"), harness.journal());
        assertEquals(0, raft.starts.get());
        assertEquals(0, raft.stops.get());
        assertEquals(
                Map.of("config", STOPPED, "web", STOPPED, "raft", STOPPED), lifecycle.states());
    }

    @Test
    void stopBeforeStartMeansNothingEverStarts() throws Exception {
        harness.daemonGraph();
        Lifecycle lifecycle = harness.build();

        lifecycle.stop().get(10, TimeUnit.SECONDS);
        ExecutionException e =
                assertThrows(
                        ExecutionException.class,
                        () -> lifecycle.start().get(10, TimeUnit.SECONDS));

        assertInstanceOf(LifecycleException.class, e.getCause());
        assertEquals(List.of(), harness.journal());
        lifecycle.states().values().forEach(state -> assertEquals(STOPPED, state));
    }

    @Test
    void timedOutStopIsMarkedFailedAndTheRestStillStops() throws Exception {
        FakeComponent web = harness.ready("web");
        FakeComponent raft =
                harness.slowToStop("raft", "web").timeouts(Harness.NO_TIMEOUT, Harness.SHORT);
        Lifecycle lifecycle = started();

        lifecycle.stop().get(10, TimeUnit.SECONDS);

        assertEquals(Map.of("web", STOPPED, "raft", FAILED), lifecycle.states());
        assertEquals(FAILED, web.statesAtStop.get("raft"));
        assertEquals(1, web.stops.get());
        assertEquals(1, raft.stops.get());
    }

    @Test
    void failedStopIsMarkedFailedAndTheRestStillStops() throws Exception {
        FakeComponent web = harness.ready("web");
        FakeComponent raft = harness.slowToStop("raft", "web");
        raft.stopResult.completeExceptionally(new IllegalStateException("log not flushed"));
        Lifecycle lifecycle = started();

        lifecycle.stop().get(10, TimeUnit.SECONDS);

        assertEquals(Map.of("web", STOPPED, "raft", FAILED), lifecycle.states());
        assertEquals(1, web.stops.get());
    }

    @Test
    void ownSchedulerThreadEndsOnceStopped() throws Exception {
        FakeComponent web = harness.ready("web");
        Lifecycle lifecycle = harness.build(Lifecycle.builder().add(web));

        lifecycle.start().get(10, TimeUnit.SECONDS);
        Thread lifecycleThread = web.startThread;
        assertTrue(lifecycleThread.isDaemon());
        lifecycle.stop().get(10, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(10)).until(() -> !lifecycleThread.isAlive());
        assertTrue(lifecycle.stop().isDone());
        assertEquals(STOPPED, lifecycle.state("web"));
    }
}
