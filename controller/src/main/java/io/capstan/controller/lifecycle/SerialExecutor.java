package io.capstan.controller.lifecycle;

import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a delegate executor (which may have any number
 * of threads). Each task happens-before the next, so state touched only by these tasks needs no
 * locks. A task that throws is logged and the queue moves on.
 */
final class SerialExecutor implements Executor {

    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);

    private final Executor delegate;
    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();

    /** True while a drain is submitted to or running on the delegate; at most one at a time. */
    private final AtomicBoolean draining = new AtomicBoolean();

    SerialExecutor(Executor delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /**
     * Queues the task.
     *
     * @throws RejectedExecutionException if the delegate refuses to run the queue
     */
    @Override
    public void execute(Runnable task) {
        queue.add(Objects.requireNonNull(task, "task"));
        scheduleDrain();
    }

    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) {
            try {
                delegate.execute(this::drain);
            } catch (RejectedExecutionException e) {
                draining.set(false);
                throw e;
            }
        }
    }

    private void drain() {
        try {
            for (Runnable task = queue.poll(); task != null; task = queue.poll()) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("serial task failed", e);
                }
            }
        } finally {
            draining.set(false);
        }
        // A task queued after the last poll but before the flag cleared found draining still set.
        if (!queue.isEmpty()) {
            try {
                scheduleDrain();
            } catch (RejectedExecutionException e) {
                LOG.debug("executor shut down; {} queued tasks dropped", queue.size());
            }
        }
    }
}
