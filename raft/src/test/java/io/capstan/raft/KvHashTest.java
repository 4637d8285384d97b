package io.capstan.raft;

import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.raft.proto.Failure;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HashKV against etcd's own figures: each expected hash is what an etcd 3.4.23 member answered to
 * {@code etcdctl endpoint hashkv --rev=R} after the same writes, from an empty store.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KvHashTest {
    /** etcd's HashKV of a store with no history: the CRC-32C of the bucket name alone. */
    private static final int EMPTY = (int) 1084519789L;

    private final Keyspace ks = new Keyspace();

    private void writeLikeTheEtcdRun() {
        ks.apply(put("a", "1"));
        ks.apply(put("b", "2"));
        ks.apply(
                Ops.txn(List.of(), List.of(op(putReq("c", "3")), op(putReq("a", "4"))), List.of()));
        ks.apply(Ops.delete("b"));
        ks.apply(put("b", "5"));
    }

    private static int unsigned(long etcdHash) {
        return (int) etcdHash;
    }

    @Test
    void matchesEtcdAtEveryRevisionOfAHistory() {
        assertEquals(new KvHash(EMPTY, 1, -1, 1), ks.store.hashKv(0));
        writeLikeTheEtcdRun();

        assertEquals(new KvHash(unsigned(1414904987L), 6, -1, 6), ks.store.hashKv(0));
        assertEquals(EMPTY, ks.store.hashKv(1).hash());
        assertEquals(unsigned(2587454935L), ks.store.hashKv(2).hash());
        assertEquals(unsigned(1827592406L), ks.store.hashKv(3).hash());
        assertEquals(unsigned(267452917L), ks.store.hashKv(4).hash(), "a transaction's two writes");
        assertEquals(unsigned(220801034L), ks.store.hashKv(5).hash(), "a tombstone");
        assertEquals(unsigned(1414904987L), ks.store.hashKv(6).hash());
        assertEquals(new KvHash(unsigned(2587454935L), 2, -1, 6), ks.store.hashKv(2));
    }

    @Test
    void matchesEtcdAfterCompactions() {
        writeLikeTheEtcdRun();
        ks.apply(Ops.compact(4));
        assertEquals(new KvHash(unsigned(4204984486L), 6, 4, 6), ks.store.hashKv(0));
        assertEquals(unsigned(1020483228L), ks.store.hashKv(5).hash());

        ks.apply(Ops.delete("a"));
        assertEquals(new KvHash(unsigned(1715877793L), 7, 4, 7), ks.store.hashKv(0));

        ks.apply(Ops.compact(7));
        assertEquals(
                new KvHash(unsigned(2483330706L), 7, 7, 7),
                ks.store.hashKv(0),
                "the tombstone at the compact revision is left out");
    }

    @Test
    void refusesCompactedAndFutureRevisionsAsEtcd35Does() {
        writeLikeTheEtcdRun();
        ks.apply(Ops.compact(4));

        KeyspaceException compacted =
                assertThrows(KeyspaceException.class, () -> ks.store.hashKv(3));
        assertEquals(Failure.Code.COMPACTED, compacted.code());
        assertEquals(4, compacted.compactRevision());
        assertEquals(4, ks.store.hashKv(4).revision(), "the compact revision itself is hashable");
        KeyspaceException future = assertThrows(KeyspaceException.class, () -> ks.store.hashKv(7));
        assertEquals(Failure.Code.FUTURE_REVISION, future.code());
        assertEquals(
                new KvHash(EMPTY, -3, 4, 6),
                ks.store.hashKv(-3),
                "a negative revision hashes nothing");
    }

    @Test
    void aReplicaRestoredFromASnapshotHashesAlike() throws IOException {
        writeLikeTheEtcdRun();
        ks.apply(Ops.compact(4));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(ks.store, out);
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));

        for (long revision : new long[] {0, 4, 5, 6}) {
            assertEquals(ks.store.hashKv(revision), restored.hashKv(revision));
        }
    }

    @Test
    void aWriteChangesTheHashAndItsRevision() {
        writeLikeTheEtcdRun();
        KvHash before = ks.store.hashKv(0);
        ks.apply(put("a", "4"));
        KvHash after = ks.store.hashKv(0);
        assertEquals(7, after.revision());
        assertEquals(before.hash(), ks.store.hashKv(6).hash(), "history up to 6 is unchanged");
        assertNotEquals(before.hash(), after.hash());
    }
}
