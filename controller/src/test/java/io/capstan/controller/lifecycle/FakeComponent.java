package io.capstan.controller.lifecycle;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A component whose start and stop results the test controls. Every call is journalled and records
 * the lifecycle's states as they were at the moment of the call, so tests can check ordering from
 * what the component itself saw.
 */
final class FakeComponent implements Component {

    final CompletableFuture<Void> startResult = new CompletableFuture<>();
    final CompletableFuture<Void> stopResult = new CompletableFuture<>();
    final CountDownLatch startCalled = new CountDownLatch(1);
    final CountDownLatch stopCalled = new CountDownLatch(1);
    final AtomicInteger starts = new AtomicInteger();
    final AtomicInteger stops = new AtomicInteger();
    volatile Map<String, ComponentState> statesAtStart;
    volatile Map<String, ComponentState> statesAtStop;
    volatile Thread startThread;
    Duration startTimeout;
    Duration stopTimeout;

    private final Harness harness;
    private final String name;
    private final Set<String> dependencies;

    FakeComponent(Harness harness, String name, Set<String> dependencies) {
        this.harness = harness;
        this.name = name;
        this.dependencies = dependencies;
    }

    /** Gives this component its own timeouts instead of the harness defaults. */
    FakeComponent timeouts(Duration start, Duration stop) {
        this.startTimeout = start;
        this.stopTimeout = stop;
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<String> dependencies() {
        return dependencies;
    }

    @Override
    public CompletableFuture<Void> start() {
        starts.incrementAndGet();
        startThread = Thread.currentThread();
        statesAtStart = harness.lifecycle().states();
        harness.record("start:" + name);
        startCalled.countDown();
        return startResult;
    }

    @Override
    public CompletableFuture<Void> stop() {
        stops.incrementAndGet();
        statesAtStop = harness.lifecycle().states();
        harness.record("stop:" + name);
        stopCalled.countDown();
        return stopResult;
    }
}
