package io.capstan.controller.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SerialExecutorTest {

    private static final int PRODUCERS = 4;
    private static final int TASKS_EACH = 5_000;

    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);

    /** Plain fields on purpose: only serial tasks touch them, so they need no synchronisation. */
    private int ran;

    private final int[] lastSeen = new int[PRODUCERS];
    private final List<String> disorder = new ArrayList<>();

    @AfterEach
    void close() {
        pool.shutdownNow();
        producers.shutdownNow();
    }

    @Test
    void tasksFromManyThreadsRunOneAtATimeInEachSubmittersOrder() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        AtomicBoolean inside = new AtomicBoolean();
        AtomicBoolean overlapped = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch allRan = new CountDownLatch(PRODUCERS * TASKS_EACH);

        List<Future<?>> submitted = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            int producer = p;
            submitted.add(
                    producers.submit(
                            () -> {
                                go.await();
                                for (int i = 1; i <= TASKS_EACH; i++) {
                                    int sequence = i;
                                    serial.execute(
                                            () -> {
                                                if (!inside.compareAndSet(false, true)) {
                                                    overlapped.set(true);
                                                }
                                                ran++;
                                                if (lastSeen[producer] != sequence - 1) {
                                                    disorder.add(producer + ":" + sequence);
                                                }
                                                lastSeen[producer] = sequence;
                                                inside.set(false);
                                                allRan.countDown();
                                            });
                                }
                                return null;
                            }));
        }
        go.countDown();
        for (Future<?> future : submitted) {
            future.get(10, TimeUnit.SECONDS);
        }
        assertTrue(allRan.await(10, TimeUnit.SECONDS), "every task ran");

        // Read the plain fields from a serial task, which happens-after all the others.
        CountDownLatch read = new CountDownLatch(1);
        int[] total = new int[1];
        List<String> seenDisorder = new ArrayList<>();
        serial.execute(
                () -> {
                    total[0] = ran;
                    seenDisorder.addAll(disorder);
                    read.countDown();
                });
        assertTrue(read.await(10, TimeUnit.SECONDS));
        assertFalse(overlapped.get(), "two tasks ran at the same time");
        assertEquals(PRODUCERS * TASKS_EACH, total[0]);
        assertEquals(List.of(), seenDisorder);
    }

    @Test
    void aThrowingTaskDoesNotStopTheQueue() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        CountDownLatch after = new CountDownLatch(1);
        serial.execute(
                () -> {
                    throw new IllegalStateException("task bug");
                });
        serial.execute(after::countDown);
        assertTrue(after.await(10, TimeUnit.SECONDS));
    }
}
