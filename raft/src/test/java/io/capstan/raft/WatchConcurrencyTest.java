package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.WatchSpec.Filter;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.RequestOp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hub on its own thread and listeners on a delivery pool, against a writer on another thread
 * (the apply thread's role), checked against the revisions the writer actually produced. Seeds are
 * printed in every assertion message.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WatchConcurrencyTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ExecutorService delivery = Executors.newCachedThreadPool();

    /** Runs the writer: the apply thread's role. */
    private final ExecutorService applyThread = Executors.newSingleThreadExecutor();

    private final List<WatchedKeyspace> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(WatchedKeyspace::stopDriver);
        delivery.shutdownNow();
        applyThread.shutdownNow();
    }

    private WatchedKeyspace keyspace(int buffer, int handoff, int catchUp) {
        WatchedKeyspace ks =
                new WatchedKeyspace(
                        new WatchSettings(buffer, handoff, catchUp, 1_000, Duration.ofMinutes(10)),
                        Clock.systemUTC(),
                        delivery);
        ks.startDriver();
        started.add(ks);
        return ks;
    }

    /** Waits, without sleeping in the test, until the writer has gone past {@code revision}. */
    private static void awaitRevision(
            WatchedKeyspace ks, long revision, CompletableFuture<?> writer) {
        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(1))
                .until(() -> ks.store().revision() >= revision || writer.isDone());
    }

    @ParameterizedTest(name = "handoff {0}, catch-up window {1}")
    @CsvSource({"16384, 1000", "4, 7"})
    void manyWatchesSeeEveryRevisionExactlyOnceInOrder(int handoff, int catchUp) throws Exception {
        long seed = System.nanoTime();
        String context = "seed " + seed;
        Random random = new Random(seed);
        Random writes = new Random(seed + 1);
        WatchedKeyspace ks = keyspace(1_000_000, handoff, catchUp);
        List<WatchSpec> specs = new ArrayList<>();
        List<Watch> watches = new ArrayList<>();
        List<RecordingListener> listeners = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            specs.add(randomSpec(random, 0));
        }
        for (WatchSpec spec : specs) {
            RecordingListener listener = new RecordingListener();
            watches.add(ks.watch(spec, listener));
            listeners.add(listener);
        }

        int commands = 3_000;
        CompletableFuture<Void> writer =
                CompletableFuture.runAsync(
                        () -> {
                            for (int i = 0; i < commands; i++) {
                                ks.apply(randomCommand(writes, i));
                            }
                        },
                        applyThread);
        // Ten more watches while the writer runs: from now, from some revision of history, or
        // ahead.
        for (int i = 1; i <= 10; i++) {
            awaitRevision(ks, i * 200L, writer);
            long current = ks.store().revision();
            long start =
                    switch (random.nextInt(3)) {
                        case 0 -> 0;
                        case 1 -> 1 + random.nextInt((int) Math.max(1, current));
                        default -> current + 1 + random.nextInt(20);
                    };
            WatchSpec spec = randomSpec(random, start);
            RecordingListener listener = new RecordingListener();
            specs.add(spec);
            watches.add(ks.watch(spec, listener));
            listeners.add(listener);
        }
        writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        for (int i = 0; i < watches.size(); i++) {
            WatchSpec spec = specs.get(i);
            RecordingListener listener = listeners.get(i);
            List<WatchEvent> expected = ks.expectedEvents(spec, watches.get(i).startRevision());
            String which =
                    context
                            + ", watch "
                            + i
                            + " "
                            + spec
                            + " from "
                            + watches.get(i).startRevision();
            await().atMost(WAIT)
                    .until(
                            () ->
                                    listener.eventCount() >= expected.size()
                                            || listener.canceled.isDone());
            assertEquals(expected, listener.events(), which);
            assertEquals(List.of(), listener.violations(), which);
            assertFalse(listener.canceled.isDone(), which + ": " + listener.cancellation());
        }
    }

    @Test
    void historyReplaySwitchesToLiveWithoutGapsUnderConcurrentWrites() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        WatchedKeyspace ks = keyspace(1_000_000, 16_384, 64);
        int writes = 5_000;
        // Write i (value "v" + i) is at revision i + 1: the empty store is at revision 1.
        long last = MvccStore.EMPTY_REVISION + writes;
        CompletableFuture<Void> writer =
                CompletableFuture.runAsync(
                        () -> {
                            for (int i = 1; i <= writes; i++) {
                                ks.apply(put("k", "v" + i));
                            }
                        },
                        applyThread);
        List<Watch> watches = new ArrayList<>();
        List<RecordingListener> listeners = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            awaitRevision(ks, i * 200L, writer);
            long current = ks.store().revision();
            long start = i % 4 == 0 ? 0 : 2 + random.nextInt((int) Math.max(1, current - 1));
            RecordingListener listener = new RecordingListener();
            watches.add(
                    ks.watch(
                            new WatchSpec(
                                    bytes("k"),
                                    ByteString.EMPTY,
                                    start,
                                    i % 2 == 0,
                                    Set.of(),
                                    false),
                            listener));
            listeners.add(listener);
        }
        writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        for (int i = 0; i < watches.size(); i++) {
            long start = watches.get(i).startRevision();
            RecordingListener listener = listeners.get(i);
            String which = "seed " + seed + ", watch from " + start;
            await().atMost(WAIT).until(() -> listener.eventCount() >= last - start + 1);
            assertEquals(
                    LongStream.rangeClosed(start, last).boxed().toList(),
                    listener.revisions(),
                    which);
            for (WatchEvent event : listener.events()) {
                long revision = event.revision();
                assertEquals("v" + (revision - 1), event.kv().getValue().toStringUtf8(), which);
                if (i % 2 == 1 && revision > 2) {
                    assertEquals(
                            "v" + (revision - 2), event.prevKv().getValue().toStringUtf8(), which);
                }
            }
            assertEquals(List.of(), listener.violations(), which);
        }
    }

    @Test
    void aStuckListenerNeverBlocksTheApplyPathNorOtherWatches() throws Exception {
        int buffer = 100;
        long first = MvccStore.EMPTY_REVISION + 1;
        WatchedKeyspace ks = keyspace(buffer, 16_384, 1_000);
        CountDownLatch stuck = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RecordingListener slow =
                new RecordingListener() {
                    @Override
                    void received(long revision, List<WatchEvent> batch) {
                        if (revision == first) {
                            stuck.countDown();
                            try {
                                release.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }
                };
        RecordingListener fast = new RecordingListener();
        WatchSpec all = WatchHubTest.everything(0);
        List<Watch> both = List.of(ks.watch(all, slow), ks.watch(all, fast));
        // A progress report means the watch is registered and synced: the first write will be live.
        both.forEach(Watch::requestProgress);
        await().atMost(WAIT).until(() -> !slow.progress().isEmpty() && !fast.progress().isEmpty());
        int writes = 1_000;
        long last = first + writes - 1;
        try {
            ks.apply(put("k", "v1"));
            assertTrue(
                    stuck.await(WAIT.toSeconds(), TimeUnit.SECONDS),
                    "the slow listener got the first write");

            // The writer lets the fast watch catch up every 50 revisions (its own choice: the hub
            // never makes it wait), so only the stuck one overflows its buffer.
            CompletableFuture<Void> writer =
                    CompletableFuture.runAsync(
                            () -> {
                                for (int i = 2; i <= writes; i++) {
                                    ks.apply(put("k", "v" + i));
                                    if (i % 50 == 0) {
                                        long written = i;
                                        await().atMost(WAIT)
                                                .until(() -> fast.eventCount() >= written);
                                    }
                                }
                            },
                            applyThread);
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(1, release.getCount(), "the writer finished while the listener was stuck");
            await().atMost(WAIT).until(() -> fast.eventCount() == writes);
            assertEquals(LongStream.rangeClosed(first, last).boxed().toList(), fast.revisions());
            assertEquals(List.of(first), slow.revisions());
        } finally {
            release.countDown();
        }

        // The first write is still counted while its delivery is stuck, so it and the 99 after it
        // filled the buffer.
        WatchCanceled canceled = slow.canceled.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(WatchCanceled.Cause.TOO_SLOW, canceled.cause());
        long resume = canceled.resumeRevision();
        assertEquals(first + buffer, resume);
        assertEquals(LongStream.range(first, resume).boxed().toList(), slow.revisions());
        assertEquals(List.of(), slow.violations());

        RecordingListener resumed = new RecordingListener();
        ks.watch(WatchHubTest.everything(resume), resumed);
        await().atMost(WAIT).until(() -> resumed.eventCount() == last - resume + 1);
        assertEquals(LongStream.rangeClosed(resume, last).boxed().toList(), resumed.revisions());
        assertFalse(fast.canceled.isDone());
    }

    private static final List<String> KEYS =
            List.of("k00", "k03", "k05", "k07", "k10", "k12", "k15", "k17", "k19", "z/1");

    private static WatchSpec randomSpec(Random random, long start) {
        String[][] ranges = {
            {"k05", ""}, {"k05", "k12"}, {"k1", "k2"}, {"k15", "\0"}, {"\0", "\0"}
        };
        String[] range = ranges[random.nextInt(ranges.length)];
        Set<Filter> filters =
                switch (random.nextInt(4)) {
                    case 0 -> Set.of(Filter.NOPUT);
                    case 1 -> Set.of(Filter.NODELETE);
                    default -> Set.of();
                };
        return new WatchSpec(
                bytes(range[0]), bytes(range[1]), start, random.nextBoolean(), filters, false);
    }

    private static Command randomCommand(Random random, int i) {
        String key = KEYS.get(random.nextInt(KEYS.size()));
        int kind = random.nextInt(10);
        if (kind < 5) {
            return put(key, "v" + i);
        }
        if (kind < 7) {
            return Ops.delete(key);
        }
        if (kind < 9) {
            List<RequestOp> ops = new ArrayList<>();
            for (String k : KEYS.subList(random.nextInt(4), 4 + random.nextInt(6))) {
                ops.add(op(putReq(k, "t" + i)));
            }
            return Ops.txn(List.of(), ops, List.of());
        }
        return Ops.delete(Ops.deleteReq("k1", "k2"));
    }
}
