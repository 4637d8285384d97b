package io.capstan.raft;

import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for a member's own executors: daemon threads (a member's work never keeps the
 * JVM up; stopping it ends that work), named so a thread dump tells whose they are and what they
 * do.
 */
final class NamedThreads {
    private NamedThreads() {}

    /** Every thread named {@code name}: for an executor of one thread. */
    static ThreadFactory named(String name) {
        return task -> daemon(task, name);
    }

    /** Threads named {@code prefix-1}, {@code prefix-2}, ... in the order they start. */
    static ThreadFactory numbered(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> daemon(task, prefix + "-" + count.incrementAndGet());
    }

    /**
     * Runs {@code task} once on a new thread named {@code name}; the future completes when it ends,
     * exceptionally with what it threw (an {@link UncheckedIOException} unwrapped to its cause).
     */
    static CompletableFuture<Void> runOnce(String name, Runnable task) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        new Thread(
                        () -> {
                            try {
                                task.run();
                                done.complete(null);
                            } catch (RuntimeException e) {
                                done.completeExceptionally(
                                        e instanceof UncheckedIOException u ? u.getCause() : e);
                            }
                        },
                        name)
                .start();
        return done;
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
