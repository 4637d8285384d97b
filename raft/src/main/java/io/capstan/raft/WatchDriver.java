package io.capstan.raft;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub thread: a daemon thread that runs {@link WatchHub#runOnce} passes and parks between them
 * until the hub is woken (new revision, request, room in an outbox) or a progress tick is due. It
 * ends when the hub closes. Should a pass ever throw, every watch ends with {@link
 * WatchCanceled.Cause#STOPPED} instead of waiting forever.
 *
 * <p>States: NEW, RUNNING after {@link #start}, STOPPED after {@link #stop} (from NEW it closes the
 * hub on the calling thread, since no hub thread ever ran).
 */
final class WatchDriver {
    private static final Logger LOG = LoggerFactory.getLogger(WatchDriver.class);

    private final WatchHub hub;
    private final Thread thread;
    private final AtomicBoolean started = new AtomicBoolean();

    WatchDriver(WatchHub hub) {
        this.hub = hub;
        this.thread = NamedThreads.named("capstan-watch-" + hub.nodeId()).newThread(this::loop);
    }

    void start() {
        if (started.compareAndSet(false, true)) {
            hub.bindOwner(thread);
            thread.start();
        }
    }

    /**
     * Ends every watch with {@code reason} and waits up to {@code timeout} for the thread to end.
     */
    void stop(String reason, Duration timeout) {
        if (started.compareAndSet(false, true)) {
            hub.closeNow(reason);
            return;
        }
        hub.requestClose(reason);
        try {
            thread.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("[{}] watch hub thread did not end within {}", hub.nodeId(), timeout);
        }
    }

    private void loop() {
        try {
            while (!hub.isClosed()) {
                if (!hub.runOnce() && !hub.isClosed()) {
                    hub.park();
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("[{}] watch hub failed; ending every watch", hub.nodeId(), e);
            hub.closeNow("watch hub failed: " + e);
        }
    }
}
