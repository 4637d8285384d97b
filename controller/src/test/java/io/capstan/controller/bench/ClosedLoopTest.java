package io.capstan.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The closed loop's bookkeeping: which operations count, their latency and errors, one in flight
 * per client.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClosedLoopTest {
    private static final long MS = 1_000_000;
    private static final Duration GRACE = Duration.ofSeconds(5);

    private final AtomicLong clock = new AtomicLong();
    private final ScheduledExecutorService later = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stop() {
        later.shutdownNow();
    }

    @Test
    void countsOperationsEndingInTheWindowWithTheirLatencyAndErrorsByKind() throws Exception {
        // Each operation takes 1 ms of the test's clock and completes at once.
        ClosedLoop loop = new ClosedLoop(clock::get);
        ClosedLoop.Window window = loop.window(Duration.ofMillis(5), Duration.ofMillis(10));
        List<Long> started = new ArrayList<>();
        ClosedLoop.Client client =
                sequence -> {
                    started.add(sequence);
                    clock.addAndGet(MS);
                    if (sequence % 4 == 3) {
                        return CompletableFuture.failedFuture(
                                new ClosedLoop.OperationFailed("COMPARE_FAILED"));
                    }
                    if (sequence % 2 == 1) {
                        return CompletableFuture.failedFuture(
                                Status.UNAVAILABLE.asRuntimeException());
                    }
                    return CompletableFuture.completedFuture(null);
                };

        ClosedLoop.Outcome outcome =
                loop.run(window, List.of(client), GRACE, ClosedLoop.WindowHook.NONE);

        // Operation s ends at s + 1 ms: 4..14 end in [5, 15] ms; 15 would start at the window's
        // end.
        assertEquals(15, started.size());
        assertEquals(6, outcome.operations(), "4, 6, 8, 10, 12, 14");
        assertEquals(Map.of("COMPARE_FAILED", 2L, "UNAVAILABLE", 3L), outcome.errors());
        assertEquals(MS, outcome.latencies().getMinValue(), MS / 1000.0);
        assertEquals(MS, outcome.latencies().getMaxValue(), MS / 1000.0);
    }

    @Test
    void operationsThatCompleteAtOnceDoNotGrowTheStack() throws Exception {
        ClosedLoop loop = new ClosedLoop(clock::get);
        ClosedLoop.Window window = loop.window(Duration.ZERO, Duration.ofSeconds(1));
        ClosedLoop.Client client =
                sequence -> {
                    clock.addAndGet(1_000);
                    return CompletableFuture.failedFuture(Status.UNAVAILABLE.asRuntimeException());
                };

        ClosedLoop.Outcome outcome =
                loop.run(window, List.of(client), GRACE, ClosedLoop.WindowHook.NONE);

        assertEquals(Map.of("UNAVAILABLE", 1_000_000L), outcome.errors());
    }

    @Test
    void keepsOneOperationInFlightPerClientOnOtherThreads() throws Exception {
        int clients = 4;
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<String> hooks = new ArrayList<>();
        ClosedLoop loop = new ClosedLoop(System::nanoTime);
        // A second measured: long enough that some 1 ms operations end in it on a busy machine.
        ClosedLoop.Window window = loop.window(Duration.ofMillis(20), Duration.ofSeconds(1));
        List<ClosedLoop.Client> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            AtomicInteger mine = new AtomicInteger();
            all.add(
                    sequence -> {
                        if (mine.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        CompletableFuture<Void> done = new CompletableFuture<>();
                        later.schedule(
                                () -> {
                                    mine.decrementAndGet();
                                    inFlight.decrementAndGet();
                                    completed.incrementAndGet();
                                    done.complete(null);
                                },
                                1,
                                TimeUnit.MILLISECONDS);
                        return done;
                    });
        }

        ClosedLoop.Outcome outcome =
                loop.run(
                        window,
                        all,
                        GRACE,
                        new ClosedLoop.WindowHook() {
                            @Override
                            public void started() {
                                hooks.add("started at " + (System.nanoTime() >= window.start()));
                            }

                            @Override
                            public void ended() {
                                hooks.add("ended at " + (System.nanoTime() >= window.end()));
                            }
                        });

        assertTrue(
                outcome.operations() > 0 && outcome.operations() <= completed.get(),
                outcome.operations() + " of " + completed.get());
        assertEquals(Map.of(), outcome.errors());
        assertEquals(0, overlaps.get(), "one operation of a client at a time");
        assertTrue(mostInFlight.get() <= clients, "at most one per client: " + mostInFlight);
        assertEquals(
                0, inFlight.get(), "every client's last operation ended before the run returned");
        assertEquals(List.of("started at true", "ended at true"), hooks);
    }

    @Test
    void anOperationThatNeverEndsCountsAsUnfinishedAfterTheGrace() throws Exception {
        ClosedLoop loop = new ClosedLoop(System::nanoTime);
        ClosedLoop.Window window = loop.window(Duration.ZERO, Duration.ofMillis(50));

        ClosedLoop.Outcome outcome =
                loop.run(
                        window,
                        List.of(sequence -> new CompletableFuture<>()),
                        Duration.ofMillis(100),
                        ClosedLoop.WindowHook.NONE);

        assertEquals(Map.of(ClosedLoop.UNFINISHED, 1L), outcome.errors());
        assertEquals(0, outcome.operations());
    }

    @Test
    void failuresCountByGrpcCodeOrTheirOwnKind() {
        assertEquals(
                "DEADLINE_EXCEEDED",
                ClosedLoop.kindOf(
                        new CompletionException(Status.DEADLINE_EXCEEDED.asRuntimeException())));
        assertEquals(
                "COMPARE_FAILED",
                ClosedLoop.kindOf(
                        new CompletionException(new ClosedLoop.OperationFailed("COMPARE_FAILED"))));
        assertEquals("UNKNOWN", ClosedLoop.kindOf(new IllegalStateException("boom")));
    }
}
