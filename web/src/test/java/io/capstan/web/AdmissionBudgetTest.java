package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.web.AdmissionBudget.Refusal;
import io.capstan.web.AdmissionBudget.Ticket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The budget's rules on a fake clock and timer: every path by which a place comes back, and none
 * twice.
 */
@Timeout(60)
class AdmissionBudgetTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    private final FakeTime time = new FakeTime();

    private AdmissionBudget budget(int inFlight, int queued) {
        return new AdmissionBudget(
                "test", new AdmissionSettings(inFlight, queued, WAIT), time, time::now);
    }

    @Test
    void admitsUpToTheLimitThenQueuesInOrderThenRefuses() {
        AdmissionBudget budget = budget(2, 2);
        Recorder a = new Recorder(budget);
        Recorder b = new Recorder(budget);
        Recorder c = new Recorder(budget);
        Recorder d = new Recorder(budget);
        Recorder e = new Recorder(budget);
        assertEquals("admitted", a.outcome);
        assertEquals("admitted", b.outcome);
        assertNull(c.outcome);
        assertNull(d.outcome);
        assertEquals("refused QUEUE_FULL", e.outcome);
        assertEquals(2, budget.inUse());
        assertEquals(2, budget.queued());
        assertEquals(1, budget.refused(Refusal.QUEUE_FULL));

        b.ticket.release();
        assertEquals("admitted", c.outcome, "the oldest waiter gets the permit");
        assertNull(d.outcome);
        assertEquals(2, budget.inUse());
        assertEquals(1, budget.queued());
    }

    @Test
    void releaseIsIdempotent() {
        AdmissionBudget budget = budget(1, 1);
        Recorder a = new Recorder(budget);
        Recorder b = new Recorder(budget);
        a.ticket.release();
        assertEquals("admitted", b.outcome);
        a.ticket.release();
        a.ticket.release();
        assertEquals(1, budget.inUse(), "a second release of a must not free b's permit");
        b.ticket.release();
        b.ticket.release();
        assertEquals(0, budget.inUse());
        Recorder refused = new Recorder(budget(1, 0));
        refused.ticket.release();
    }

    @Test
    void aWaiterIsRefusedAtItsDeadlineAndNotBefore() {
        AdmissionBudget budget = budget(1, 3);
        Recorder holder = new Recorder(budget);
        Recorder first = new Recorder(budget);
        time.advance(Duration.ofSeconds(2));
        Recorder second = new Recorder(budget);
        time.advance(WAIT.minusSeconds(2).minusMillis(1));
        assertNull(first.outcome, "1 ms before its deadline");
        time.advance(Duration.ofMillis(1));
        assertEquals("refused TIMED_OUT", first.outcome);
        assertNull(second.outcome);
        assertEquals(1, budget.queued());
        time.advance(Duration.ofSeconds(2));
        assertEquals("refused TIMED_OUT", second.outcome);
        assertEquals(0, budget.queued());
        assertEquals(1, budget.inUse(), "a timed-out waiter never held a permit");
        assertEquals(2, budget.refused(Refusal.TIMED_OUT));
        holder.ticket.release();
        assertEquals(0, budget.inUse());
    }

    @Test
    void aWaiterWhoseClientLeftLeavesTheQueueWithoutAWord() {
        AdmissionBudget budget = budget(1, 2);
        Recorder holder = new Recorder(budget);
        Recorder gone = new Recorder(budget);
        Recorder next = new Recorder(budget);
        gone.ticket.release();
        assertEquals(1, budget.queued());
        assertEquals(1, budget.inUse());
        holder.ticket.release();
        assertNull(gone.outcome, "a waiter that left hears nothing");
        assertEquals("admitted", next.outcome);
        time.advance(WAIT.plusSeconds(1));
        assertNull(gone.outcome, "nor at its deadline");
        next.ticket.release();
        assertEquals(0, budget.inUse());
        assertEquals(0, budget.refused(Refusal.TIMED_OUT));
    }

    @Test
    void closingRefusesWaitersAndLaterComersButPermitsComeBackOnlyWhenReleased() {
        AdmissionBudget budget = budget(1, 2);
        Recorder holder = new Recorder(budget);
        Recorder waiting = new Recorder(budget);
        budget.close();
        assertEquals("refused STOPPED", waiting.outcome);
        assertEquals("refused STOPPED", new Recorder(budget).outcome);
        assertEquals(0, budget.queued());
        assertEquals(1, budget.inUse());
        holder.ticket.release();
        assertEquals(0, budget.inUse());
        assertEquals(2, budget.refused(Refusal.STOPPED));
        budget.close();
    }

    @Test
    void handOffsToWaitersThatLeaveAtOnceDoNotNest() {
        int waiters = 50_000;
        AdmissionBudget budget = budget(1, waiters);
        Recorder holder = new Recorder(budget);
        List<Integer> admittedInOrder = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            int index = i;
            budget.enter(
                    new AdmissionBudget.Waiter() {
                        @Override
                        public void admitted(Ticket ticket) {
                            admittedInOrder.add(index);
                            // Its request ends on the spot, which admits the next on this thread.
                            ticket.release();
                        }

                        @Override
                        public void refused(Ticket ticket, Refusal refusal) {
                            throw new AssertionError("refused " + refusal);
                        }
                    });
        }
        holder.ticket.release();
        assertEquals(waiters, admittedInOrder.size());
        for (int i = 0; i < waiters; i++) {
            assertEquals(i, admittedInOrder.get(i));
        }
        assertEquals(0, budget.inUse());
    }

    /**
     * Random enters, releases (twice, sometimes) and clock steps against the rules: never more
     * permits than the limit, a queue only while every permit is held, each waiter told at most
     * once, and every permit back once every ticket is released.
     */
    @Test
    void randomHistoriesKeepTheRules() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        String context = "seed " + seed;
        for (int round = 0; round < 200; round++) {
            AdmissionBudget budget = budget(1 + random.nextInt(4), random.nextInt(5));
            List<Recorder> all = new ArrayList<>();
            for (int step = 0; step < 200; step++) {
                int action = random.nextInt(10);
                if (action < 4) {
                    all.add(new Recorder(budget));
                } else if (action < 8 && !all.isEmpty()) {
                    all.get(random.nextInt(all.size())).release();
                } else {
                    time.advance(Duration.ofMillis(random.nextInt(3000)));
                }
                long held =
                        all.stream()
                                .filter(r -> "admitted".equals(r.outcome) && !r.released)
                                .count();
                assertEquals(held, budget.inUse(), context);
                assertTrue(budget.inUse() <= budget.settings().maxInFlight(), context);
                assertTrue(budget.queued() <= budget.settings().maxQueued(), context);
                assertTrue(
                        budget.queued() == 0 || budget.inUse() == budget.settings().maxInFlight(),
                        context);
                all.forEach(r -> assertTrue(r.told <= 1, context));
            }
            all.forEach(Recorder::release);
            assertEquals(0, budget.inUse(), context);
            assertEquals(0, budget.queued(), context);
        }
    }

    /** A waiter that remembers what it was told, and whether its ticket was released. */
    private static final class Recorder implements AdmissionBudget.Waiter {
        final Ticket ticket;
        String outcome;
        int told;
        boolean released;

        Recorder(AdmissionBudget budget) {
            this.ticket = budget.enter(this);
        }

        void release() {
            released = true;
            ticket.release();
        }

        @Override
        public void admitted(Ticket t) {
            assertTrue(t == ticket || ticket == null, "told about its own ticket");
            outcome = "admitted";
            told++;
        }

        @Override
        public void refused(Ticket t, Refusal refusal) {
            outcome = "refused " + refusal;
            told++;
        }
    }

    /** A clock and a timer in one: tasks run when the clock is advanced past their time. */
    private static final class FakeTime implements AdmissionBudget.Timer {
        private record Task(long at, long order, Runnable run) {}

        private final PriorityQueue<Task> tasks =
                new PriorityQueue<>(
                        (x, y) ->
                                x.at != y.at
                                        ? Long.compare(x.at, y.at)
                                        : Long.compare(x.order, y.order));
        private long now = 1_000_000_000L;
        private long order;

        long now() {
            return now;
        }

        @Override
        public void schedule(long delayNanos, Runnable task) {
            tasks.add(new Task(now + delayNanos, order++, task));
        }

        void advance(Duration step) {
            long until = now + step.toNanos();
            while (!tasks.isEmpty() && tasks.peek().at <= until) {
                Task next = tasks.poll();
                now = next.at;
                next.run.run();
            }
            now = until;
        }
    }
}
