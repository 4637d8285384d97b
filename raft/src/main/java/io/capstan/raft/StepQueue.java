package io.capstan.raft;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Operations run one at a time, in attempts, on one thread: the engine under {@link Membership}. An
 * attempt starts its calls and returns a future of its {@link Outcome}; when that completes, the
 * next step runs. An operation whose attempt asks for a retry leaves the queue and comes back after
 * the delay, while the operations behind it go on. Nothing blocks or sleeps.
 *
 * <p><b>Threads.</b> Every step runs on the {@link Scheduler}'s one thread (a node's membership
 * thread, or a test's), which alone touches the queue; {@link #submit} and {@link #stop} may be
 * called on any thread and only hand a step over.
 *
 * <p><b>States.</b> Open, then stopped by {@link #stop}: every operation not done yet (queued,
 * under way, or waiting to retry) fails with an {@link IllegalStateException} saying the member is
 * stopping; no attempt starts and no retry is scheduled after; an operation submitted after fails
 * the same way.
 */
final class StepQueue {

    /** Runs steps one at a time on one thread. */
    interface Scheduler extends Executor {
        /**
         * Runs {@code step} after {@code delay}.
         *
         * @throws RejectedExecutionException once the scheduler has shut down
         */
        void schedule(Runnable step, Duration delay);

        /** Steps on {@code executor}, which must have one thread. */
        static Scheduler on(ScheduledExecutorService executor) {
            return new Scheduler() {
                @Override
                public void execute(Runnable step) {
                    executor.execute(step);
                }

                @Override
                public void schedule(Runnable step, Duration delay) {
                    executor.schedule(step, delay.toMillis(), TimeUnit.MILLISECONDS);
                }
            };
        }
    }

    /**
     * What one attempt came to: done with a value, or to be tried again after a delay.
     *
     * @param retryAfter null when done
     */
    record Outcome<T>(T value, Duration retryAfter) {
        static <T> Outcome<T> done(T value) {
            return new Outcome<>(value, null);
        }

        static <T> Outcome<T> retry(Duration after) {
            return new Outcome<>(null, after);
        }
    }

    /** One attempt of an operation: starts its calls on the queue's thread and returns. */
    interface Attempt<T> {
        /**
         * @param number 1 for the first attempt, then 2, 3...
         * @return the outcome; a failed future fails the operation
         */
        CompletableFuture<Outcome<T>> run(int number) throws IOException;
    }

    /** A submitted operation; {@link #attempts} belongs to the queue's thread. */
    private static final class Operation<T> {
        final String what;
        final Attempt<T> attempt;
        final CompletableFuture<T> result = new CompletableFuture<>();
        int attempts;

        Operation(String what, Attempt<T> attempt) {
            this.what = what;
            this.attempt = attempt;
        }
    }

    private final String nodeId;
    private final Scheduler scheduler;

    // ---- the scheduler's thread only ----
    private final ArrayDeque<Operation<?>> ready = new ArrayDeque<>();
    private final Set<Operation<?>> waiting = new LinkedHashSet<>();
    private Operation<?> running;
    private boolean stopped;

    StepQueue(String nodeId, Scheduler scheduler) {
        this.nodeId = nodeId;
        this.scheduler = scheduler;
    }

    /**
     * Where attempts continue after a call answered: the queue's thread. Once the queue stopped,
     * nothing continues there, so an attempt under way at the stop makes no further call.
     */
    Executor steps() {
        return step ->
                scheduler.execute(
                        () -> {
                            if (!stopped) {
                                step.run();
                            }
                        });
    }

    /**
     * Queues an operation; any thread.
     *
     * @param what names it in the error of a stop
     * @return completes with the value of its last attempt, or fails with the failure of one
     */
    <T> CompletableFuture<T> submit(String what, Attempt<T> attempt) {
        Operation<T> operation = new Operation<>(what, attempt);
        try {
            scheduler.execute(() -> enqueue(operation));
        } catch (RejectedExecutionException e) {
            operation.result.completeExceptionally(stopping(operation));
        }
        return operation.result;
    }

    /**
     * Stops the queue (see the class doc); any thread. Returns at once: the queue's thread does it,
     * after the steps handed to it before.
     */
    void stop() {
        try {
            scheduler.execute(this::stopNow);
        } catch (RejectedExecutionException e) {
            // The scheduler shut down after an earlier stop, which failed what was left.
        }
    }

    private void enqueue(Operation<?> operation) {
        if (stopped) {
            operation.result.completeExceptionally(stopping(operation));
            return;
        }
        ready.add(operation);
        runNext();
    }

    /** Starts the next ready operation's attempt, unless one is under way. */
    private void runNext() {
        if (stopped || running != null || ready.isEmpty()) {
            return;
        }
        Operation<?> operation = ready.poll();
        running = operation;
        start(operation);
    }

    private <T> void start(Operation<T> operation) {
        operation.attempts++;
        CompletableFuture<Outcome<T>> attempt;
        try {
            attempt = operation.attempt.run(operation.attempts);
        } catch (IOException | RuntimeException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        attempt.whenComplete(
                (outcome, failure) -> {
                    try {
                        scheduler.execute(() -> attempted(operation, outcome, failure));
                    } catch (RejectedExecutionException e) {
                        // Stopped: the operation failed then.
                    }
                });
    }

    private <T> void attempted(Operation<T> operation, Outcome<T> outcome, Throwable failure) {
        if (running != operation) {
            // Stopped while the attempt was under way: the operation failed then.
            return;
        }
        running = null;
        if (failure != null) {
            operation.result.completeExceptionally(cause(failure));
        } else if (outcome.retryAfter() == null) {
            operation.result.complete(outcome.value());
        } else {
            waiting.add(operation);
            try {
                scheduler.schedule(() -> retryDue(operation), outcome.retryAfter());
            } catch (RejectedExecutionException e) {
                waiting.remove(operation);
                operation.result.completeExceptionally(stopping(operation));
            }
        }
        runNext();
    }

    private void retryDue(Operation<?> operation) {
        if (waiting.remove(operation)) {
            ready.add(operation);
            runNext();
        }
    }

    private void stopNow() {
        if (stopped) {
            return;
        }
        stopped = true;
        List<Operation<?>> left = new ArrayList<>();
        if (running != null) {
            left.add(running);
        }
        left.addAll(ready);
        left.addAll(waiting);
        running = null;
        ready.clear();
        waiting.clear();
        for (Operation<?> operation : left) {
            operation.result.completeExceptionally(stopping(operation));
        }
    }

    private IllegalStateException stopping(Operation<?> operation) {
        return new IllegalStateException(
                "member "
                        + nodeId
                        + " is stopping: membership operation '"
                        + operation.what
                        + "' did not complete");
    }

    /** The failure itself, out of the wrappers futures put around it. */
    static Throwable cause(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
