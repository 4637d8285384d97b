package io.capstan.raft;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded queue of applied revisions from the apply thread (its one producer) to the hub thread
 * (its one consumer). Neither side ever waits: it is lock-free, and when it is full the producer
 * drops the revision and raises {@link #takeOverflow() a flag} instead, telling the consumer to
 * recover what it missed from the store, which still holds it.
 */
final class Handoff {
    /** One published revision and its changes. */
    record Applied(long revision, List<Change> changes) {}

    private final ConcurrentLinkedQueue<Applied> queue = new ConcurrentLinkedQueue<>();

    /** Only the producer raises it, so it never exceeds the capacity. */
    private final AtomicInteger size = new AtomicInteger();

    private final AtomicBoolean overflowed = new AtomicBoolean();
    private final int capacity;

    Handoff(int capacity) {
        this.capacity = capacity;
    }

    /** Producer: enqueues {@code applied}, or drops it and flags the overflow when full. */
    void offer(Applied applied) {
        if (size.get() >= capacity) {
            overflowed.set(true);
            return;
        }
        size.incrementAndGet();
        queue.offer(applied);
    }

    /** Producer: drops a revision no consumer needs now, flagged as an overflow is. */
    void skip() {
        overflowed.set(true);
    }

    /** Consumer: the oldest revision waiting, or null. */
    Applied poll() {
        Applied applied = queue.poll();
        if (applied != null) {
            size.decrementAndGet();
        }
        return applied;
    }

    /** Any thread: revisions waiting for the consumer. */
    int size() {
        return size.get();
    }

    /** Consumer: whether revisions were dropped since the last call; clears the flag. */
    boolean takeOverflow() {
        return overflowed.getAndSet(false);
    }
}
