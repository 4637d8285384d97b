package io.capstan.raft;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Lets concurrent linearizable reads share rounds (see {@link ReadRounds#next}). A read waits for
 * the first round that starts after it arrived; once that round completes, this member has applied
 * everything committed before the read arrived, so the read is answered from local state. Reads
 * arriving while a round is in flight gather for the next one, which starts as soon as the current
 * one ends: under load there is one round per round trip, however many readers there are, and a
 * lone reader waits for one round.
 *
 * <p>Threads: any thread may call {@link #await}. The two fields are guarded by this object's lock,
 * held only to swap them; rounds start on the caller's thread or on the thread that completed the
 * previous round, outside the lock. That thread must be free to call into Ratis, which the round
 * supplier's futures ensure (see {@link RaftRequests}).
 */
final class ReadBarrier {

    private final Supplier<CompletableFuture<?>> round;

    /** Readers waiting for the next round; null when there are none. Guarded by this. */
    private CompletableFuture<Void> next;

    /** Whether a round is in flight. Guarded by this. */
    private boolean inFlight;

    /**
     * @param round starts one round; completes once this member applied everything it vouches for
     */
    ReadBarrier(Supplier<CompletableFuture<?>> round) {
        this.round = round;
    }

    /**
     * Completes once a round that started after this call has completed, exceptionally if that
     * round failed. The future completes on the thread that completed the round; dependent stages
     * that do real work should run on an executor of their own.
     */
    CompletableFuture<Void> await() {
        CompletableFuture<Void> waiter;
        boolean start;
        synchronized (this) {
            if (next == null) {
                next = new CompletableFuture<>();
            }
            waiter = next;
            start = !inFlight;
            if (start) {
                inFlight = true;
                next = null;
            }
        }
        if (start) {
            run(waiter);
        }
        return waiter;
    }

    private void run(CompletableFuture<Void> waiters) {
        CompletableFuture<?> started;
        try {
            started = round.get();
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        started.whenComplete(
                (done, error) -> {
                    CompletableFuture<Void> following;
                    synchronized (this) {
                        following = next;
                        next = null;
                        inFlight = following != null;
                    }
                    if (error == null) {
                        waiters.complete(null);
                    } else {
                        waiters.completeExceptionally(error);
                    }
                    if (following != null) {
                        run(following);
                    }
                });
    }
}
