package io.capstan.controller.lifecycle;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Builds lifecycles of {@link FakeComponent}s on a scheduler the test owns, and keeps one journal
 * of start and stop calls across all of them. Close it after each test.
 */
final class Harness implements AutoCloseable {

    /** Long enough never to fire in a passing test; tests about timeouts set their own. */
    static final Duration NO_TIMEOUT = Duration.ofMinutes(5);

    /** The timeout used where a test wants one to fire. */
    static final Duration SHORT = Duration.ofMillis(100);

    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<String> journal = new ArrayList<>();
    private final List<FakeComponent> components = new ArrayList<>();
    private volatile Lifecycle lifecycle;

    /**
     * A component whose start stays pending until the test completes it; its stop completes at
     * once.
     */
    FakeComponent pending(String name, String... dependencies) {
        FakeComponent component = new FakeComponent(this, name, Set.of(dependencies));
        component.stopResult.complete(null);
        components.add(component);
        return component;
    }

    /** A component that is ready as soon as it is started and stopped as soon as it is stopped. */
    FakeComponent ready(String name, String... dependencies) {
        FakeComponent component = pending(name, dependencies);
        component.startResult.complete(null);
        return component;
    }

    /** A component that starts at once but whose stop stays pending until the test completes it. */
    FakeComponent slowToStop(String name, String... dependencies) {
        FakeComponent component = new FakeComponent(this, name, Set.of(dependencies));
        component.startResult.complete(null);
        components.add(component);
        return component;
    }

    /**
     * The daemon's graph on the web transport (see {@code Daemon} and docs/architecture.md), every
     * component ready at once.
     */
    void daemonGraph() {
        ready("web");
        ready("transport", "web");
        ready("raft", "transport");
        ready("api", "raft");
        ready("artifacts", "raft");
    }

    /** A builder holding every component made so far, on this harness's scheduler. */
    Lifecycle.Builder builder() {
        Lifecycle.Builder builder =
                Lifecycle.builder().scheduler(scheduler).defaultTimeouts(NO_TIMEOUT, NO_TIMEOUT);
        for (FakeComponent component : components) {
            if (component.startTimeout != null) {
                builder.add(component, component.startTimeout, component.stopTimeout);
            } else {
                builder.add(component);
            }
        }
        return builder;
    }

    Lifecycle build() {
        return build(builder());
    }

    Lifecycle build(Lifecycle.Builder builder) {
        lifecycle = builder.build();
        return lifecycle;
    }

    Lifecycle lifecycle() {
        return lifecycle;
    }

    List<FakeComponent> components() {
        return List.copyOf(components);
    }

    synchronized void record(String event) {
        journal.add(event);
    }

    synchronized List<String> journal() {
        return List.copyOf(journal);
    }

    /** The journal's entries that start with {@code prefix}, e.g. {@code "stop:"}. */
    synchronized List<String> journal(String prefix) {
        return journal.stream().filter(e -> e.startsWith(prefix)).toList();
    }

    static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(10, TimeUnit.SECONDS), "latch did not open");
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
