package io.capstan.web;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;

/**
 * A named budget of requests served at once: up to {@code maxInFlight} hold a permit; the next
 * {@code maxQueued} wait in a first-come-first-served queue, each for at most {@code maxQueueWait};
 * the rest, and whoever waits past that deadline, are refused. Protocol-neutral: the web layer
 * admits exchanges through it, the etcd gRPC API calls.
 *
 * <p>A caller {@link #enter enters} with a {@link Waiter} and gets a {@link Ticket}. The waiter
 * hears exactly one of {@link Waiter#admitted} and {@link Waiter#refused}, or neither when its
 * ticket is released while it still waits (its client left). A permit comes back when its ticket is
 * {@link Ticket#release released}; releasing is idempotent, so every path that ends a request
 * (completion, error, disconnect, stop) may release without knowing whether another did. A released
 * permit passes straight to the oldest waiter, so a queue is never overtaken.
 *
 * <p>Threading: every method may be called from any thread. The count, the queue and the ticket
 * states are guarded by this budget's monitor; waiters are called outside it, on the thread whose
 * call decided their fate: {@link #enter} (a free permit, or a full queue), a release (the next
 * waiter's admission), the {@link Timer} (deadlines) or {@link #close}. A waiter admitted during a
 * release may release in turn on the same thread: the hand-offs then run one after the other, not
 * nested, so a long queue cannot overflow the stack.
 */
public final class AdmissionBudget {

    /** Why a waiter was refused. */
    public enum Refusal {
        /** Every permit and queue place was taken when it came. */
        QUEUE_FULL,
        /** It waited {@code maxQueueWait} without a permit coming free. */
        TIMED_OUT,
        /** The budget was closed: the server is stopping. */
        STOPPED
    }

    /** Told once what became of a request that entered a budget. */
    public interface Waiter {
        /**
         * {@code ticket} now holds a permit; the request may run, and its end must release the
         * ticket.
         */
        void admitted(Ticket ticket);

        /**
         * {@code ticket} will never hold a permit; the request is to be answered with a refusal.
         */
        void refused(Ticket ticket, Refusal refusal);
    }

    /** Runs a task once after a delay, on a thread of its own (a scheduled executor). */
    @FunctionalInterface
    public interface Timer {
        void schedule(long delayNanos, Runnable task);
    }

    private enum State {
        QUEUED,
        ADMITTED,
        DONE
    }

    /**
     * Admissions decided by releases on this thread and not yet told, while one of them is being
     * told.
     */
    private static final ThreadLocal<ArrayDeque<Ticket>> HANDOFFS = new ThreadLocal<>();

    private final String name;
    private final AdmissionSettings settings;
    private final Timer timer;
    private final LongSupplier nanoTime;

    // Guarded by this.
    private final ArrayDeque<Ticket> queue = new ArrayDeque<>();
    private final long[] refusals = new long[Refusal.values().length];
    private int inUse;
    private boolean closed;

    /** Whether a deadline check is scheduled; deadlines grow along the queue, so one is enough. */
    private boolean expiryScheduled;

    /**
     * @param timer runs the deadline checks of queued waiters; it must accept tasks until {@link
     *     #close()} has returned
     * @param nanoTime the clock of the deadlines ({@code System::nanoTime})
     */
    public AdmissionBudget(
            String name, AdmissionSettings settings, Timer timer, LongSupplier nanoTime) {
        Admission.checkName(name);
        this.name = name;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * Takes a permit for {@code waiter} if one is free and nobody waits (the waiter hears {@code
     * admitted} before this returns), else queues it, else refuses it (before this returns).
     */
    public Ticket enter(Waiter waiter) {
        Objects.requireNonNull(waiter, "waiter");
        Ticket ticket =
                new Ticket(waiter, nanoTime.getAsLong() + settings.maxQueueWait().toNanos());
        Refusal refusal = null;
        boolean admitted = false;
        boolean scheduleExpiry = false;
        synchronized (this) {
            if (closed) {
                refusal = Refusal.STOPPED;
            } else if (inUse < settings.maxInFlight() && queue.isEmpty()) {
                inUse++;
                ticket.state = State.ADMITTED;
                admitted = true;
            } else if (queue.size() < settings.maxQueued()) {
                queue.addLast(ticket);
                scheduleExpiry = !expiryScheduled;
                expiryScheduled = true;
            } else {
                refusal = Refusal.QUEUE_FULL;
            }
            if (refusal != null) {
                ticket.state = State.DONE;
                refusals[refusal.ordinal()]++;
            }
        }
        if (scheduleExpiry) {
            scheduleExpiry(settings.maxQueueWait().toNanos());
        }
        if (refusal != null) {
            waiter.refused(ticket, refusal);
        } else if (admitted) {
            tell(ticket);
        }
        return ticket;
    }

    /**
     * Refuses every waiter ({@link Refusal#STOPPED}) and every later {@link #enter}. Permits in use
     * stay counted until their tickets are released. Idempotent.
     */
    public void close() {
        List<Ticket> waiting;
        synchronized (this) {
            closed = true;
            waiting = new ArrayList<>(queue);
            queue.clear();
            waiting.forEach(ticket -> ticket.state = State.DONE);
            refusals[Refusal.STOPPED.ordinal()] += waiting.size();
        }
        waiting.forEach(ticket -> ticket.waiter.refused(ticket, Refusal.STOPPED));
    }

    public String name() {
        return name;
    }

    public AdmissionSettings settings() {
        return settings;
    }

    /** Permits held now. */
    public synchronized int inUse() {
        return inUse;
    }

    /** Waiters queued now. */
    public synchronized int queued() {
        return queue.size();
    }

    /** Waiters refused for {@code reason} since the budget was made. */
    public synchronized long refused(Refusal reason) {
        return refusals[reason.ordinal()];
    }

    private void release(Ticket ticket) {
        Ticket next = null;
        synchronized (this) {
            switch (ticket.state) {
                case QUEUED -> {
                    queue.remove(ticket);
                    ticket.state = State.DONE;
                }
                case ADMITTED -> {
                    ticket.state = State.DONE;
                    next = queue.pollFirst();
                    if (next == null) {
                        inUse--;
                    } else {
                        next.state = State.ADMITTED;
                    }
                }
                case DONE -> {}
            }
        }
        if (next != null) {
            tell(next);
        }
    }

    /**
     * Tells {@code ticket}'s waiter it was admitted, unless this thread is telling another one
     * already.
     */
    private static void tell(Ticket ticket) {
        ArrayDeque<Ticket> pending = HANDOFFS.get();
        if (pending != null) {
            pending.addLast(ticket);
            return;
        }
        pending = new ArrayDeque<>();
        HANDOFFS.set(pending);
        try {
            for (Ticket next = ticket; next != null; next = pending.pollFirst()) {
                next.waiter.admitted(next);
            }
        } finally {
            HANDOFFS.remove();
        }
    }

    /**
     * Runs on the timer: refuses the waiters whose deadline passed and schedules the next check.
     */
    private void expire() {
        List<Ticket> expired = new ArrayList<>();
        long untilNext = -1;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            while (!queue.isEmpty() && queue.peekFirst().deadline - now <= 0) {
                Ticket ticket = queue.pollFirst();
                ticket.state = State.DONE;
                expired.add(ticket);
            }
            refusals[Refusal.TIMED_OUT.ordinal()] += expired.size();
            if (queue.isEmpty()) {
                expiryScheduled = false;
            } else {
                untilNext = queue.peekFirst().deadline - now;
            }
        }
        if (untilNext >= 0) {
            scheduleExpiry(untilNext);
        }
        expired.forEach(ticket -> ticket.waiter.refused(ticket, Refusal.TIMED_OUT));
    }

    private void scheduleExpiry(long delayNanos) {
        try {
            timer.schedule(delayNanos, this::expire);
        } catch (RejectedExecutionException e) {
            // Only a stopping owner shuts its timer; close() refuses whoever still waits.
            synchronized (this) {
                expiryScheduled = false;
            }
        }
    }

    /**
     * One request's place in the budget: queued, holding a permit, or done (refused or released).
     * Its state changes only under the budget's monitor.
     */
    public final class Ticket {
        private final Waiter waiter;
        private final long deadline;
        private State state = State.QUEUED;

        private Ticket(Waiter waiter, long deadline) {
            this.waiter = waiter;
            this.deadline = deadline;
        }

        /**
         * Gives the permit back (to the oldest waiter, if any), or leaves the queue without a word
         * to the waiter; does nothing the second time, or for a refused ticket.
         */
        public void release() {
            AdmissionBudget.this.release(this);
        }

        /** The budget this ticket belongs to. */
        public AdmissionBudget budget() {
            return AdmissionBudget.this;
        }
    }
}
