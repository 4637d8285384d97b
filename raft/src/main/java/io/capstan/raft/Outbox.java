package io.capstan.raft;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One watch's reports on their way to its listener: the hub thread (and, for a watch refused or
 * stopped before the hub saw it, the creating thread) {@link #offer}s them, and a drain task on the
 * delivery executor hands them to the listener in order.
 *
 * <p><b>Threads.</b> At most one drain task runs at a time: {@code work} counts offers not yet seen
 * by a drain, and only the offer that raises it from zero submits one, so listener calls are serial
 * and each happens-after the one before. {@link #pending()} counts the events not yet handed to the
 * listener; the hub reads it to bound the buffer. Everything is lock-free; nothing here ever waits
 * for the listener except the drain task itself.
 *
 * <p><b>States.</b> Open, then discarding ({@link #discard}: events and progress are skipped, the
 * end is still delivered), then ended once the {@link End} item was delivered (anything after it is
 * ignored).
 */
final class Outbox {
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    /** One report for the listener. */
    sealed interface Item permits Events, Progress, End {
        int weight();
    }

    record Events(long revision, List<WatchEvent> events) implements Item {
        @Override
        public int weight() {
            return events.size();
        }
    }

    /** Weighs nothing: at most one is queued at a time ({@link #offerProgress}). */
    record Progress(long revision) implements Item {
        @Override
        public int weight() {
            return 0;
        }
    }

    record End(WatchCanceled canceled) implements Item {
        @Override
        public int weight() {
            return 0;
        }
    }

    private final String name;
    private final WatchListener listener;
    private final Executor executor;
    private final int roomAt;
    private final Runnable wakeHub;
    private final Consumer<RuntimeException> listenerFailed;
    private final LongAdder backlog;
    private final ConcurrentLinkedQueue<Item> items = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger work = new AtomicInteger();
    private final AtomicBoolean wakeWhenRoom = new AtomicBoolean();
    private final AtomicBoolean progressQueued = new AtomicBoolean();
    private volatile boolean discarding;
    private volatile boolean ended;

    /**
     * @param roomAt when {@link #wakeWhenRoom()} was asked, the hub is woken once {@link
     *     #pending()} falls to this
     * @param listenerFailed called on the drain thread when the listener threw
     * @param backlog moves with {@link #pending()}, shared by every outbox of one hub (metrics)
     */
    Outbox(
            String name,
            WatchListener listener,
            Executor executor,
            int roomAt,
            Runnable wakeHub,
            Consumer<RuntimeException> listenerFailed,
            LongAdder backlog) {
        this.name = name;
        this.listener = listener;
        this.executor = executor;
        this.roomAt = roomAt;
        this.wakeHub = wakeHub;
        this.listenerFailed = listenerFailed;
        this.backlog = backlog;
    }

    int pending() {
        return pending.get();
    }

    void offer(Item item) {
        pending.addAndGet(item.weight());
        backlog.add(item.weight());
        items.add(item);
        if (work.getAndIncrement() == 0) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // The member is stopping and its delivery threads are gone: deliver here, so the
                // listener still hears how its watch ended.
                drain();
            }
        }
    }

    /**
     * Queues a progress report unless one is already waiting (it reports a lower revision, still
     * true): so a client asking again and again never fills memory.
     */
    void offerProgress(long revision) {
        if (progressQueued.compareAndSet(false, true)) {
            offer(new Progress(revision));
        }
    }

    /** Skip every event and progress report not yet delivered, now and later. */
    void discard() {
        discarding = true;
    }

    /**
     * Asks for one wake-up of the hub once {@link #pending()} falls to {@code roomAt}. The caller
     * re-reads {@link #pending()} after asking, so a drain that just made room is not missed.
     */
    void wakeWhenRoom() {
        wakeWhenRoom.set(true);
    }

    private void drain() {
        int seen = 1;
        while (true) {
            Item item;
            while ((item = items.poll()) != null) {
                if (item instanceof Progress) {
                    progressQueued.set(false);
                }
                deliver(item);
                int left = pending.addAndGet(-item.weight());
                backlog.add(-item.weight());
                if (left <= roomAt && wakeWhenRoom.compareAndSet(true, false)) {
                    wakeHub.run();
                }
            }
            seen = work.addAndGet(-seen);
            if (seen == 0) {
                return;
            }
        }
    }

    private void deliver(Item item) {
        if (ended) {
            return;
        }
        if (item instanceof End end) {
            ended = true;
            try {
                listener.onCanceled(end.canceled());
            } catch (RuntimeException e) {
                LOG.warn("{}: listener failed on cancellation: {}", name, e.toString());
            }
            return;
        }
        if (discarding) {
            return;
        }
        try {
            if (item instanceof Events events) {
                listener.onEvents(events.revision(), events.events());
            } else if (item instanceof Progress progress) {
                listener.onProgress(progress.revision());
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: listener failed, canceling the watch: {}", name, e.toString());
            discarding = true;
            listenerFailed.accept(e);
        }
    }
}
