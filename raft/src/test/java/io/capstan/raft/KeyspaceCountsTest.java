package io.capstan.raft;

import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.Command;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The store's live key and byte counts (metrics) follow every kind of write, compaction and a
 * snapshot round trip, checked against a recount of the keys that exist at the latest revision.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KeyspaceCountsTest {

    /** What the counts must equal: the keys live at the latest revision, recounted. */
    private static void assertCountsMatchRecount(MvccStore store, String context) {
        long[] keys = {0};
        long[] bytes = {0};
        store.scan(
                ByteString.EMPTY,
                MvccStore.FROM_KEY,
                store.revision(),
                (key, version) -> {
                    keys[0]++;
                    bytes[0] += key.size() + version.value().size();
                    return true;
                });
        assertEquals(keys[0], store.liveKeyCount(), "live keys " + context);
        assertEquals(bytes[0], store.liveBytes(), "live bytes " + context);
    }

    @Test
    void countsFollowPutsOverwritesDeletesAndTransactions() {
        Keyspace ks = new Keyspace();
        ks.apply(put("a", "1"));
        ks.apply(put("bb", "22"));
        assertEquals(2, ks.store.liveKeyCount());
        assertEquals(1 + 1 + 2 + 2, ks.store.liveBytes());

        ks.apply(put("a", "longer"));
        assertEquals(2, ks.store.liveKeyCount());
        assertEquals(1 + 6 + 2 + 2, ks.store.liveBytes());

        ks.apply(Ops.delete("bb"));
        assertEquals(1, ks.store.liveKeyCount());
        assertEquals(1 + 6, ks.store.liveBytes());

        // One revision that creates a key and deletes another.
        ks.apply(put("d", "dd"));
        ks.apply(
                Ops.txn(
                        List.of(),
                        List.of(op(putReq("c", "yyy")), op(Ops.deleteReq("d", ""))),
                        List.of()));
        assertEquals(2, ks.store.liveKeyCount());
        assertEquals(1 + 6 + 1 + 3, ks.store.liveBytes());

        ks.apply(Ops.delete(Ops.deleteReq("a", "\0")));
        assertEquals(0, ks.store.liveKeyCount());
        assertEquals(0, ks.store.liveBytes());
    }

    @Test
    void revokingALeaseUncountsItsKeys() {
        Keyspace ks = new Keyspace();
        ks.apply(Ops.grant(7, 60));
        ks.apply(put(putReq("leased", "v").toBuilder().setLease(7).build()));
        ks.apply(put("kept", "v"));
        ks.apply(Ops.revoke(7));
        assertEquals(1, ks.store.liveKeyCount());
        assertEquals(4 + 1, ks.store.liveBytes());
    }

    @Test
    void randomWritesCompactionsAndSnapshotsKeepCountsExact() throws IOException {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        Keyspace ks = new Keyspace();
        for (int i = 0; i < 400; i++) {
            int k = random.nextInt(20);
            String key = "k" + k;
            String other = "k" + ((k + 1 + random.nextInt(19)) % 20);
            Command command =
                    switch (random.nextInt(5)) {
                        case 0, 1 -> put(key, "v".repeat(random.nextInt(8)));
                        case 2 -> Ops.delete(key);
                        case 3 ->
                                Ops.txn(
                                        List.of(),
                                        List.of(op(putReq(key, "t")), op(Ops.deleteReq(other, ""))),
                                        List.of());
                        default ->
                                Ops.compact(Math.max(1, ks.store.revision() - random.nextInt(5)));
                    };
            // A compaction at or below the compact revision is refused as a result, changing
            // nothing.
            ks.apply(command);
            assertCountsMatchRecount(ks.store, "after op " + i + " (seed " + seed + ")");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(ks.store, out);
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(ks.store.liveKeyCount(), restored.liveKeyCount(), "seed " + seed);
        assertEquals(ks.store.liveBytes(), restored.liveBytes(), "seed " + seed);
        assertCountsMatchRecount(restored, "after a snapshot round trip (seed " + seed + ")");
    }
}
