package io.capstan.raft;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;

/**
 * A {@link StepQueue.Scheduler} whose steps run on the test's thread when the test says, with a
 * time of its own that moves only when the test advances it. One test thread drives it.
 */
final class ManualScheduler implements StepQueue.Scheduler {
    private record Timed(Duration due, long order, Runnable step) {}

    private final Queue<Runnable> now = new ArrayDeque<>();
    private final List<Timed> later = new ArrayList<>();
    private Duration time = Duration.ZERO;
    private long order;
    private int scheduled;
    private boolean shutDown;

    @Override
    public void execute(Runnable step) {
        if (shutDown) {
            throw new RejectedExecutionException("scheduler shut down");
        }
        now.add(step);
    }

    @Override
    public void schedule(Runnable step, Duration delay) {
        if (shutDown) {
            throw new RejectedExecutionException("scheduler shut down");
        }
        scheduled++;
        later.add(new Timed(time.plus(delay), order++, step));
    }

    /** Runs every step ready now, and those they hand over, until none is left. */
    void runReady() {
        Runnable step;
        while ((step = now.poll()) != null) {
            step.run();
        }
    }

    /** Moves time on by {@code by}, running each timed step that comes due, in time order. */
    void advance(Duration by) {
        Duration end = time.plus(by);
        while (true) {
            runReady();
            Timed next =
                    later.stream()
                            .filter(t -> t.due().compareTo(end) <= 0)
                            .min(Comparator.comparing(Timed::due).thenComparing(Timed::order))
                            .orElse(null);
            if (next == null) {
                break;
            }
            later.remove(next);
            time = next.due();
            now.add(next.step());
        }
        time = end;
    }

    /** How many timed steps were asked for so far. */
    int scheduledCount() {
        return scheduled;
    }

    /** From now on every step is refused, as a shut-down executor refuses them. */
    void shutDown() {
        shutDown = true;
    }
}
