package io.capstan.raft;

import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.putReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RangeResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many readers against one writer: every write transaction sets all of {@code g/0..g/7} to the same
 * value (one revision), then one in five deletes them all. Each read, at the latest or at an older
 * revision, must see all eight keys with one value and one mod revision, or none.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConcurrentReadStressTest {
    private static final int KEYS = 8;
    private static final int WRITES = 4_000;
    private static final int READERS = 4;

    @Test
    void readersNeverSeeHalfATransaction() throws Exception {
        MvccStore store = new MvccStore();
        Applier applier = new Applier(store, LeaseEvents.NONE, AppliedChanges.NONE);
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(READERS);
        List<CompletableFuture<Long>> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            boolean historical = r % 2 == 1;
            readers.add(CompletableFuture.supplyAsync(() -> read(store, done, historical), pool));
        }
        try {
            for (int i = 1; i <= WRITES; i++) {
                List<io.capstan.raft.proto.RequestOp> ops = new ArrayList<>();
                for (int k = 0; k < KEYS; k++) {
                    ops.add(op(putReq("g/" + k, "v" + i)));
                }
                applier.apply(Ops.txn(List.of(), ops, List.of()), i);
                if (i % 5 == 0) {
                    applier.apply(Ops.delete(Ops.deleteReq("g/", "g0")), i);
                }
            }
        } finally {
            done.set(true);
        }
        for (CompletableFuture<Long> reader : readers) {
            assertTrue(reader.get(30, TimeUnit.SECONDS) > 0, "a reader made no reads");
        }
        pool.shutdown();
        assertEquals(MvccStore.EMPTY_REVISION + WRITES + WRITES / 5, store.revision());
    }

    private static long read(MvccStore store, AtomicBoolean done, boolean historical) {
        long reads = 0;
        long lastRevision = 0;
        RangeRequest all = Ops.rangeReq("g/", "g0");
        while (!done.get() || reads == 0) {
            long latest = store.revision();
            long at = historical && latest > 1 ? 1 + reads % latest : latest;
            RangeResponse response = RangeReader.read(store, all, store.readableRevision(at));
            check(response, at);
            if (!historical) {
                assertTrue(latest >= lastRevision, "revision went back");
                lastRevision = latest;
            }
            reads++;
        }
        return reads;
    }

    private static void check(RangeResponse response, long at) {
        if (response.getKvsCount() == 0) {
            return;
        }
        assertEquals(KEYS, response.getKvsCount(), "partial transaction visible at " + at);
        KeyValue first = response.getKvs(0);
        for (KeyValue kv : response.getKvsList()) {
            assertEquals(first.getValue(), kv.getValue(), "mixed transactions visible at " + at);
            assertEquals(first.getModRevision(), kv.getModRevision());
            assertTrue(kv.getModRevision() <= at, "a version newer than the read revision");
        }
    }
}
