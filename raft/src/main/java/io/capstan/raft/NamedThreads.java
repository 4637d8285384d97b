package io.capstan.raft;

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

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
