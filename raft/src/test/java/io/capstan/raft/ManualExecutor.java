package io.capstan.raft;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;

/** Holds submitted tasks until the test runs them: listeners that are "slow" on demand. */
final class ManualExecutor implements Executor {
    private final Queue<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    /** Runs every task submitted so far, and those they submit. */
    void runAll() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
        }
    }
}
