package io.capstan.controller;

import io.capstan.controller.lifecycle.Component;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Adapts a module's start/stop methods to a lifecycle {@link Component}. Modules below the
 * controller know nothing of the lifecycle; this is where they meet it.
 *
 * <p>A blocking stop runs on a thread of its own, so the lifecycle's executor never waits on it.
 */
record ComponentAdapter(
        String name,
        Set<String> dependencies,
        Supplier<CompletableFuture<?>> starter,
        Runnable blockingStop)
        implements Component {

    ComponentAdapter {
        dependencies = Set.copyOf(dependencies);
    }

    @Override
    public CompletableFuture<Void> start() {
        return starter.get().thenApply(ignored -> null);
    }

    @Override
    public CompletableFuture<Void> stop() {
        return CompletableFuture.runAsync(
                blockingStop, task -> new Thread(task, name + "-stop").start());
    }
}
