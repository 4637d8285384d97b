package io.capstan.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The clients' bookkeeping on a clock the test moves: which operations count, their latency, the
 * closed loop, opening and closing clients; and the proposing clients' keys. The real clusters
 * behind them are exercised by {@link BenchCommandTest}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BenchLoadTest {
    private static final long MS = 1_000_000;
    private static final ByteString VALUE = ByteString.copyFrom(new byte[256]);

    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final AtomicLong clock = new AtomicLong();

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    private BenchLoad load(long warmupMs, long measureMs) {
        return new BenchLoad(
                pool, clock::get, Duration.ofMillis(warmupMs), Duration.ofMillis(measureMs));
    }

    private static BenchLoad.Clients proposals(
            String keyPrefix, Function<Command, CompletableFuture<?>> propose) {
        return BenchLoad.proposals(propose, keyPrefix, VALUE, Duration.ofSeconds(10));
    }

    private static long sequence(Command put) {
        String key = put.getPut().getKey().toStringUtf8();
        return Long.parseLong(key.substring(key.lastIndexOf('/') + 1));
    }

    @Test
    void countsOnlyWritesCompletingInTheMeasuredWindowAndTheirErrors() throws Exception {
        List<Command> proposed = new ArrayList<>();
        // Each write takes 1 ms; odd sequence numbers fail.
        BenchResult result =
                load(5, 10)
                        .run(
                                "web",
                                false,
                                1,
                                proposals(
                                        "bench/web/1/",
                                        put -> {
                                            proposed.add(put);
                                            clock.addAndGet(MS);
                                            return sequence(put) % 2 == 1
                                                    ? CompletableFuture.failedFuture(
                                                            new IllegalStateException("refused"))
                                                    : CompletableFuture.completedFuture(null);
                                        }));

        // Writes 0..14 complete at 1..15 ms; the window is [5 ms, 15 ms]: writes 4..14.
        assertEquals(15, proposed.size(), "no write is proposed once the window has ended");
        assertEquals(6, result.operations(), "even writes 4, 6, .., 14");
        assertEquals(5, result.errors(), "odd writes 5, 7, .., 13");
        assertEquals(600.0, result.operationsPerSecond(), 1e-9);
        assertEquals(1.0, result.p50Millis(), 0.004);
        assertEquals(1.0, result.p99Millis(), 0.004);
        assertEquals("web", result.transport());
        assertEquals(1, result.clients());
        assertFalse(result.auth());
        for (Command put : proposed) {
            assertTrue(
                    put.getPut().getKey().toStringUtf8().startsWith("bench/web/1/0/"),
                    put.getPut().getKey().toStringUtf8());
            assertEquals(VALUE, put.getPut().getValue());
        }
    }

    @Test
    void eachWriterKeepsOneWriteInFlightAndNoKeyRepeats() throws Exception {
        int writers = 4;
        Set<String> keys = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        // Answers nothing until every writer has a write in flight, then all at once, 2 ms later:
        // only a closed loop of exactly four writers gets past the first round.
        BenchResult result =
                load(3, 10)
                        .run(
                                "grpc",
                                true,
                                writers,
                                proposals(
                                        "bench/grpc/4/",
                                        put -> {
                                            assertTrue(
                                                    keys.add(put.getPut().getKey().toStringUtf8()),
                                                    "key repeated: " + put.getPut().getKey());
                                            CompletableFuture<Void> answer =
                                                    new CompletableFuture<>();
                                            List<CompletableFuture<Void>> round = List.of();
                                            synchronized (pending) {
                                                pending.add(answer);
                                                assertTrue(
                                                        pending.size() <= writers,
                                                        "more writes in flight than writers");
                                                if (pending.size() == writers) {
                                                    round = List.copyOf(pending);
                                                    pending.clear();
                                                    clock.addAndGet(2 * MS);
                                                }
                                            }
                                            round.forEach(f -> f.complete(null));
                                            return answer;
                                        }));

        // Rounds complete at 2, 4, .., 14 ms; the window [3 ms, 13 ms] holds rounds at 4..12 ms.
        assertEquals(7 * writers, keys.size());
        assertEquals(5 * writers, result.operations());
        assertTrue(result.auth());
        assertEquals(0, result.errors());
        assertEquals(2.0, result.p99Millis(), 0.008);
        for (int w = 0; w < writers; w++) {
            String prefix = "bench/grpc/4/" + w + "/";
            assertEquals(7, keys.stream().filter(k -> k.startsWith(prefix)).count(), prefix);
        }
    }

    @Test
    void aRunWithoutAcknowledgedWritesReportsNoLatency() throws Exception {
        BenchResult result =
                load(0, 3)
                        .run(
                                "web",
                                false,
                                1,
                                proposals(
                                        "bench/web/1/",
                                        put -> {
                                            clock.addAndGet(MS);
                                            return CompletableFuture.failedFuture(
                                                    new IllegalStateException("no leader"));
                                        }));
        assertEquals(0, result.operations());
        assertEquals(3, result.errors());
        assertTrue(Double.isNaN(result.p50Millis()) && Double.isNaN(result.p99Millis()));
    }

    @Test
    void aClientIsOpenedBeforeTheClockStartsAndClosedAfterItsLastOperation() throws Exception {
        List<String> events = new ArrayList<>();
        // Opening takes 100 ms of the test's clock: were it inside the run, the window would be
        // gone.
        BenchResult result =
                load(0, 3)
                        .run(
                                "web",
                                false,
                                1,
                                index -> {
                                    events.add("open");
                                    clock.addAndGet(100 * MS);
                                    return new BenchLoad.Client() {
                                        @Override
                                        public void perform(long sequence) {
                                            events.add("op " + sequence);
                                            clock.addAndGet(MS);
                                        }

                                        @Override
                                        public void close() {
                                            events.add("close");
                                        }
                                    };
                                });

        // The window is [100 ms, 103 ms]: operations end at 101, 102 and 103 ms.
        assertEquals(List.of("open", "op 0", "op 1", "op 2", "close"), events);
        assertEquals(3, result.operations());
    }

    @Test
    void aClientThatCannotOpenEndsTheRunBeforeItStartsAndClosesTheOthers() {
        List<Integer> closed = new ArrayList<>();
        List<Integer> performed = new ArrayList<>();
        BenchLoad.SetupException refused =
                assertThrows(
                        BenchLoad.SetupException.class,
                        () ->
                                load(0, 3)
                                        .run(
                                                "web",
                                                true,
                                                3,
                                                index -> {
                                                    if (index == 2) {
                                                        throw new IllegalStateException(
                                                                "lease not granted");
                                                    }
                                                    return new BenchLoad.Client() {
                                                        @Override
                                                        public void perform(long sequence) {
                                                            performed.add(index);
                                                        }

                                                        @Override
                                                        public void close() {
                                                            closed.add(index);
                                                        }
                                                    };
                                                }));

        assertTrue(
                refused.getMessage().contains("client 2 of 3 could not be set up"),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("lease not granted"), refused.getMessage());
        assertEquals(List.of(0, 1), closed);
        assertEquals(List.of(), performed);
    }
}
