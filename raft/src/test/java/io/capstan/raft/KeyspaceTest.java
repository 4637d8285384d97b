package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.compare;
import static io.capstan.raft.Ops.deleteReq;
import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static io.capstan.raft.Ops.rangeReq;
import static io.capstan.raft.Ops.txn;
import static io.capstan.raft.Ops.txnReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Compare.CompareResult;
import io.capstan.raft.proto.Compare.CompareTarget;
import io.capstan.raft.proto.DeleteRangeRequest;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RangeResponse;
import io.capstan.raft.proto.TxnResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KeyspaceTest {
    private final Keyspace ks = new Keyspace();

    private KeyValue get(String key) {
        RangeResponse r = ks.range(rangeReq(key, ""));
        return r.getKvsCount() == 0 ? null : r.getKvs(0);
    }

    private KeyValue getAt(String key, long revision) {
        RangeResponse r = ks.range(rangeReq(key, "").toBuilder().setRevision(revision).build());
        return r.getKvsCount() == 0 ? null : r.getKvs(0);
    }

    private List<String> keys(RangeResponse r) {
        return r.getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList();
    }

    @Test
    void anEmptyStoreIsAtRevisionOneAndTheFirstWriteGetsTwo() {
        assertEquals(1, ks.store.revision());
        assertEquals(MvccStore.NOT_COMPACTED, ks.store.compactRevision());
        assertEquals(0, ks.range(rangeReq("a", "z").toBuilder().setRevision(1).build()).getCount());
        KeyspaceException future =
                assertThrows(
                        KeyspaceException.class,
                        () -> ks.range(rangeReq("a", "").toBuilder().setRevision(2).build()));
        assertEquals(Failure.Code.FUTURE_REVISION, future.code());

        assertEquals(2, ks.apply(put("a", "1")).getRevision());
        assertEquals(null, getAt("a", 1));
        assertEquals("1", getAt("a", 2).getValue().toStringUtf8());
        assertEquals("1", getAt("a", 0).getValue().toStringUtf8());
    }

    @Test
    void compactionOfAFreshStoreFollowsEtcdsRules() {
        assertEquals(Failure.Code.FUTURE_REVISION, ks.apply(Ops.compact(2)).getFailure().getCode());
        CommandResult atCurrent = ks.apply(Ops.compact(1));
        assertTrue(atCurrent.hasCompaction());
        assertEquals(1, atCurrent.getRevision());
        assertEquals(1, ks.store.compactRevision());
        assertEquals(null, getAt("a", 1));

        Failure again = ks.apply(Ops.compact(1)).getFailure();
        assertEquals(Failure.Code.COMPACTED, again.getCode());
        assertEquals(1, again.getCompactRevision());
    }

    @Test
    void compactionAtZeroOrBelowAnswersAsEtcd() {
        Failure negative = ks.apply(Ops.compact(-1)).getFailure();
        assertEquals(Failure.Code.COMPACTED, negative.getCode());
        assertEquals(-1, negative.getCompactRevision());

        CommandResult zero = ks.apply(Ops.compact(0));
        assertTrue(zero.hasCompaction(), "a store never compacted accepts revision 0 once");
        assertEquals(1, zero.getRevision());
        assertEquals(0, ks.store.compactRevision());
        Failure again = ks.apply(Ops.compact(0)).getFailure();
        assertEquals(Failure.Code.COMPACTED, again.getCode());
        assertEquals(0, again.getCompactRevision());
        assertTrue(ks.apply(Ops.compact(1)).hasCompaction());
    }

    @Test
    void negativeLimitsRevisionsAndFiltersReadAsEtcdReadsThem() {
        ks.apply(put("a", "1"));
        ks.apply(put("b", "2"));
        ks.apply(put("c", "3"));
        RangeRequest all = rangeReq("a", "z");

        RangeResponse noLimit = ks.range(all.toBuilder().setLimit(-1).build());
        assertEquals(List.of("a", "b", "c"), keys(noLimit));
        assertFalse(noLimit.getMore());
        assertEquals(
                List.of("a", "b", "c"), keys(ks.range(all.toBuilder().setRevision(-5).build())));
        RangeResponse maxBelowZero = ks.range(all.toBuilder().setMaxModRevision(-1).build());
        assertEquals(
                List.of(), keys(maxBelowZero), "every key's revision is above a negative maximum");
        assertEquals(3, maxBelowZero.getCount());
        assertEquals(
                List.of("a", "b", "c"),
                keys(ks.range(all.toBuilder().setMinModRevision(-1).build())));

        // Inside a transaction etcd refuses a revision below the compact revision, negatives too.
        TxnResponse latest =
                ks.apply(
                                txn(
                                        List.of(),
                                        List.of(op(all.toBuilder().setRevision(-1).build())),
                                        List.of()))
                        .getTxn();
        assertEquals(List.of("a", "b", "c"), keys(latest.getResponses(0).getResponseRange()));
        assertEquals(
                Failure.Code.COMPACTED,
                ks.apply(
                                txn(
                                        List.of(),
                                        List.of(op(all.toBuilder().setRevision(-2).build())),
                                        List.of()))
                        .getFailure()
                        .getCode());
        ks.apply(Ops.compact(2));
        assertEquals(
                Failure.Code.COMPACTED,
                ks.apply(
                                txn(
                                        List.of(),
                                        List.of(op(all.toBuilder().setRevision(-1).build())),
                                        List.of()))
                        .getFailure()
                        .getCode());
    }

    @Test
    void changesOfOneRevisionCarryTheOrderTheyWereMadeIn() {
        ks.apply(put("x/b", "1"));
        ks.apply(put("x/c", "1"));
        long revision =
                ks.apply(
                                txn(
                                        List.of(),
                                        List.of(
                                                op(putReq("x/z", "1")),
                                                op(deleteReq("x/b", "x/d")),
                                                op(putReq("x/a", "1"))),
                                        List.of()))
                        .getRevision();

        List<String> made = new ArrayList<>();
        ks.store.scanHistories(
                bytes("x/"),
                bytes("x0"),
                (key, history) -> {
                    KeyRevision latest = history.latest();
                    if (latest.modRevision() == revision) {
                        made.add((int) latest.subRevision() + ":" + key.toStringUtf8());
                    }
                });
        made.sort(null);
        assertEquals(List.of("0:x/z", "1:x/b", "2:x/c", "3:x/a"), made);
    }

    @Test
    void eachWriteBumpsTheRevisionByOneAndTracksVersions() {
        assertEquals(1, ks.store.revision());
        assertEquals(2, ks.apply(put("a", "1")).getRevision());
        assertEquals(3, ks.apply(put("a", "2")).getRevision());
        assertEquals(4, ks.apply(put("b", "x")).getRevision());

        KeyValue a = get("a");
        assertEquals("2", a.getValue().toStringUtf8());
        assertEquals(2, a.getCreateRevision());
        assertEquals(3, a.getModRevision());
        assertEquals(2, a.getVersion());
        KeyValue b = get("b");
        assertEquals(4, b.getCreateRevision());
        assertEquals(1, b.getVersion());
    }

    @Test
    void deleteLeavesATombstoneAndRecreationStartsOver() {
        ks.apply(put("a", "1"));
        ks.apply(put("a", "2"));
        CommandResult deleted = ks.apply(Ops.delete("a"));
        assertEquals(4, deleted.getRevision());
        assertEquals(1, deleted.getDeleteRange().getDeleted());
        assertEquals(null, get("a"));
        assertEquals("2", getAt("a", 3).getValue().toStringUtf8());

        ks.apply(put("a", "3"));
        KeyValue again = get("a");
        assertEquals(5, again.getCreateRevision());
        assertEquals(1, again.getVersion());
    }

    @Test
    void writesThatChangeNothingKeepTheRevision() {
        ks.apply(put("a", "1"));
        CommandResult missing = ks.apply(Ops.delete("nope"));
        assertEquals(0, missing.getDeleteRange().getDeleted());
        assertEquals(2, missing.getRevision());

        CommandResult readOnly =
                ks.apply(txn(List.of(), List.of(op(rangeReq("a", ""))), List.of()));
        assertEquals(2, readOnly.getRevision());
        assertEquals(2, ks.store.revision());
    }

    @Test
    void putReturnsPrevKvAndHonoursIgnoreValueAndIgnoreLease() {
        ks.apply(Ops.grant(7, 60));
        ks.apply(put(putReq("a", "v1").toBuilder().setLease(7).build()));
        CommandResult second =
                ks.apply(
                        put(
                                PutRequest.newBuilder()
                                        .setKey(bytes("a"))
                                        .setIgnoreValue(true)
                                        .setIgnoreLease(true)
                                        .setPrevKv(true)
                                        .build()));
        assertEquals("v1", second.getPut().getPrevKv().getValue().toStringUtf8());
        KeyValue a = get("a");
        assertEquals("v1", a.getValue().toStringUtf8());
        assertEquals(7, a.getLease());
        assertEquals(2, a.getVersion());

        CommandResult missing =
                ks.apply(
                        put(
                                PutRequest.newBuilder()
                                        .setKey(bytes("zz"))
                                        .setIgnoreValue(true)
                                        .build()));
        assertEquals(Failure.Code.KEY_NOT_FOUND, missing.getFailure().getCode());
        assertEquals(3, missing.getRevision());
    }

    @Test
    void putWithUnknownLeaseIsRefusedWithoutChangingAnything() {
        CommandResult result = ks.apply(put(putReq("a", "v").toBuilder().setLease(99).build()));
        assertEquals(Failure.Code.LEASE_NOT_FOUND, result.getFailure().getCode());
        assertEquals(1, ks.store.revision());
        assertEquals(null, get("a"));
    }

    @Test
    void rangesByKeyPrefixIntervalAndFromKey() {
        for (String k : List.of("a", "b/1", "b/2", "b/3", "c", "d")) {
            ks.apply(put(k, k.toUpperCase()));
        }
        assertEquals(
                List.of("b/1", "b/2", "b/3"),
                keys(
                        ks.range(
                                RangeRequest.newBuilder()
                                        .setKey(bytes("b/"))
                                        .setRangeEnd(RangeReader.prefixEnd(bytes("b/")))
                                        .build())));
        assertEquals(List.of("b/2", "b/3", "c"), keys(ks.range(rangeReq("b/2", "d"))));
        assertEquals(
                List.of("c", "d"),
                keys(
                        ks.range(
                                RangeRequest.newBuilder()
                                        .setKey(bytes("c"))
                                        .setRangeEnd(MvccStore.FROM_KEY)
                                        .build())));
        assertEquals(
                6,
                ks.range(
                                RangeRequest.newBuilder()
                                        .setKey(MvccStore.FROM_KEY)
                                        .setRangeEnd(MvccStore.FROM_KEY)
                                        .build())
                        .getKvsCount());
        assertEquals(List.of(), keys(ks.range(rangeReq("d", "a"))));
    }

    @Test
    void limitSetsMoreAndCountIsTheWholeRange() {
        for (String k : List.of("a", "b", "c", "d")) {
            ks.apply(put(k, k));
        }
        RangeResponse limited = ks.range(rangeReq("a", "z").toBuilder().setLimit(2).build());
        assertEquals(List.of("a", "b"), keys(limited));
        assertTrue(limited.getMore());
        assertEquals(4, limited.getCount());

        RangeResponse exact = ks.range(rangeReq("a", "z").toBuilder().setLimit(4).build());
        assertFalse(exact.getMore());

        RangeResponse countOnly =
                ks.range(rangeReq("a", "z").toBuilder().setCountOnly(true).build());
        assertEquals(0, countOnly.getKvsCount());
        assertEquals(4, countOnly.getCount());

        RangeResponse keysOnly = ks.range(rangeReq("a", "z").toBuilder().setKeysOnly(true).build());
        assertTrue(keysOnly.getKvsList().stream().allMatch(kv -> kv.getValue().isEmpty()));
        assertEquals(4, keysOnly.getKvsCount());
    }

    @Test
    void sortsByEachTargetAndFiltersByRevisions() {
        ks.apply(put("a", "3")); // rev 2
        ks.apply(put("b", "1")); // rev 3
        ks.apply(put("c", "2")); // rev 4
        ks.apply(put("a", "4")); // rev 5: a has version 2

        RangeRequest all = rangeReq("a", "z");
        assertEquals(
                List.of("c", "b", "a"),
                keys(
                        ks.range(
                                all.toBuilder()
                                        .setSortOrder(RangeRequest.SortOrder.DESCEND)
                                        .build())));
        assertEquals(
                List.of("b", "c", "a"),
                keys(
                        ks.range(
                                all.toBuilder()
                                        .setSortTarget(RangeRequest.SortTarget.VALUE)
                                        .build())));
        assertEquals(
                List.of("b", "c", "a"),
                keys(
                        ks.range(
                                all.toBuilder()
                                        .setSortTarget(RangeRequest.SortTarget.MOD)
                                        .setSortOrder(RangeRequest.SortOrder.ASCEND)
                                        .build())));
        assertEquals(
                List.of("a", "b", "c"),
                keys(
                        ks.range(
                                all.toBuilder()
                                        .setSortTarget(RangeRequest.SortTarget.CREATE)
                                        .build())));
        assertEquals(
                "a",
                keys(ks.range(
                                all.toBuilder()
                                        .setSortTarget(RangeRequest.SortTarget.VERSION)
                                        .setSortOrder(RangeRequest.SortOrder.DESCEND)
                                        .setLimit(1)
                                        .build()))
                        .get(0));

        assertEquals(
                List.of("a", "c"), keys(ks.range(all.toBuilder().setMinModRevision(4).build())));
        assertEquals(
                List.of("b"),
                keys(
                        ks.range(
                                all.toBuilder()
                                        .setMinCreateRevision(3)
                                        .setMaxCreateRevision(3)
                                        .build())));
        RangeResponse filtered = ks.range(all.toBuilder().setMaxModRevision(3).build());
        assertEquals(List.of("b"), keys(filtered));
        assertEquals(3, filtered.getCount());
    }

    @Test
    void readsAtAnOldRevisionSeeTheStateThen() {
        ks.apply(put("a", "1"));
        ks.apply(put("b", "1"));
        ks.apply(Ops.delete("a"));
        assertEquals(
                List.of("a", "b"),
                keys(ks.range(rangeReq("a", "z").toBuilder().setRevision(3).build())));
        assertEquals(List.of("b"), keys(ks.range(rangeReq("a", "z"))));
        assertEquals(
                List.of("a"),
                keys(ks.range(rangeReq("a", "z").toBuilder().setRevision(2).build())));
    }

    @Test
    void futureAndCompactedRevisionsAreRefused() {
        ks.apply(put("a", "1"));
        ks.apply(put("a", "2"));
        ks.apply(put("a", "3"));
        KeyspaceException future =
                assertThrows(
                        KeyspaceException.class,
                        () -> ks.range(rangeReq("a", "").toBuilder().setRevision(5).build()));
        assertEquals(Failure.Code.FUTURE_REVISION, future.code());

        assertEquals(4, ks.apply(Ops.compact(3)).getRevision());
        KeyspaceException compacted = assertThrows(KeyspaceException.class, () -> getAt("a", 2));
        assertEquals(Failure.Code.COMPACTED, compacted.code());
        assertEquals(3, compacted.compactRevision());
        assertEquals("2", getAt("a", 3).getValue().toStringUtf8());
        assertEquals("3", get("a").getValue().toStringUtf8());

        assertEquals(Failure.Code.COMPACTED, ks.apply(Ops.compact(3)).getFailure().getCode());
        assertEquals(Failure.Code.COMPACTED, ks.apply(Ops.compact(2)).getFailure().getCode());
        assertEquals(
                Failure.Code.FUTURE_REVISION, ks.apply(Ops.compact(10)).getFailure().getCode());
        assertTrue(ks.apply(Ops.compact(4)).hasCompaction());
    }

    @Test
    void compactionDropsHistoryAndDeadKeys() {
        ks.apply(put("a", "1"));
        ks.apply(put("gone", "x"));
        ks.apply(put("a", "2"));
        ks.apply(Ops.delete("gone")); // rev 5
        ks.apply(put("a", "3")); // rev 6
        ks.apply(Ops.compact(5));
        assertEquals(1, ks.store.keyCount());
        assertEquals("2", getAt("a", 5).getValue().toStringUtf8());
        KeyValue a = get("a");
        assertEquals(3, a.getVersion());
        assertEquals(2, a.getCreateRevision());
    }

    @Test
    void txnWithSeveralWritesIsOneRevision() {
        ks.apply(put("x", "0"));
        CommandResult result =
                ks.apply(
                        txn(
                                List.of(),
                                List.of(
                                        op(putReq("a", "1")),
                                        op(putReq("b", "2")),
                                        op(deleteReq("x", ""))),
                                List.of()));
        assertEquals(3, result.getRevision());
        assertEquals(3, get("a").getModRevision());
        assertEquals(3, get("b").getModRevision());
        assertEquals(null, get("x"));
    }

    @Test
    void txnComparesChooseTheBranch() {
        ks.apply(put("k", "v1")); // rev 2, version 1
        ks.apply(put("k", "v2")); // rev 3, version 2

        assertTrue(
                succeeded(
                        compare("k", CompareResult.EQUAL)
                                .setTarget(CompareTarget.VALUE)
                                .setValue(bytes("v2"))
                                .build()));
        assertFalse(
                succeeded(
                        compare("k", CompareResult.EQUAL)
                                .setTarget(CompareTarget.VALUE)
                                .setValue(bytes("v1"))
                                .build()));
        assertTrue(
                succeeded(
                        compare("k", CompareResult.NOT_EQUAL)
                                .setTarget(CompareTarget.VALUE)
                                .setValue(bytes("v1"))
                                .build()));
        assertTrue(
                succeeded(
                        compare("k", CompareResult.GREATER)
                                .setTarget(CompareTarget.VERSION)
                                .setVersion(1)
                                .build()));
        assertTrue(
                succeeded(
                        compare("k", CompareResult.LESS)
                                .setTarget(CompareTarget.MOD)
                                .setModRevision(4)
                                .build()));
        assertTrue(
                succeeded(
                        compare("k", CompareResult.EQUAL)
                                .setTarget(CompareTarget.CREATE)
                                .setCreateRevision(2)
                                .build()));
        assertTrue(
                succeeded(
                        compare("k", CompareResult.EQUAL)
                                .setTarget(CompareTarget.LEASE)
                                .setLease(0)
                                .build()));
        // A missing key compares as zeros, except that a value compare fails.
        assertTrue(
                succeeded(
                        compare("missing", CompareResult.EQUAL)
                                .setTarget(CompareTarget.CREATE)
                                .setCreateRevision(0)
                                .build()));
        assertFalse(
                succeeded(
                        compare("missing", CompareResult.NOT_EQUAL)
                                .setTarget(CompareTarget.VALUE)
                                .setValue(bytes("x"))
                                .build()));
        // Over a range, every key must match.
        ks.apply(put("k2", "v2"));
        assertTrue(
                succeeded(
                        compare("k", CompareResult.EQUAL)
                                .setRangeEnd(bytes("l"))
                                .setTarget(CompareTarget.VALUE)
                                .setValue(bytes("v2"))
                                .build()));
        ks.apply(put("k3", "other"));
        assertFalse(
                succeeded(
                        compare("k", CompareResult.EQUAL)
                                .setRangeEnd(bytes("l"))
                                .setTarget(CompareTarget.VALUE)
                                .setValue(bytes("v2"))
                                .build()));
    }

    private boolean succeeded(io.capstan.raft.proto.Compare compare) {
        long before = ks.store.revision();
        CommandResult result =
                ks.apply(
                        txn(
                                List.of(compare),
                                List.of(op(rangeReq("k", ""))),
                                List.of(op(rangeReq("k", "")))));
        assertEquals(before, result.getRevision());
        return result.getTxn().getSucceeded();
    }

    @Test
    void failedCompareRunsTheFailureBranch() {
        ks.apply(put("lock", "owner-1"));
        CommandResult result =
                ks.apply(
                        txn(
                                List.of(
                                        compare("lock", CompareResult.EQUAL)
                                                .setTarget(CompareTarget.VERSION)
                                                .setVersion(0)
                                                .build()),
                                List.of(op(putReq("lock", "owner-2"))),
                                List.of(op(rangeReq("lock", "")))));
        TxnResponse txn = result.getTxn();
        assertFalse(txn.getSucceeded());
        assertEquals(
                "owner-1",
                txn.getResponses(0).getResponseRange().getKvs(0).getValue().toStringUtf8());
        assertEquals("owner-1", get("lock").getValue().toStringUtf8());
        assertEquals(2, result.getRevision());
    }

    @Test
    void txnRangeSeesItsOwnEarlierWritesAndNestedTxnsRun() {
        ks.apply(put("a", "0"));
        CommandResult result =
                ks.apply(
                        txn(
                                List.of(),
                                List.of(
                                        op(putReq("b", "1")),
                                        op(rangeReq("a", "z")),
                                        op(
                                                txnReq(
                                                        List.of(
                                                                compare("a", CompareResult.EQUAL)
                                                                        .setTarget(
                                                                                CompareTarget.VALUE)
                                                                        .setValue(bytes("0"))
                                                                        .build()),
                                                        List.of(op(putReq("c", "nested"))),
                                                        List.of()))),
                                List.of()));
        TxnResponse txn = result.getTxn();
        assertEquals(2, txn.getResponses(1).getResponseRange().getKvsCount());
        assertTrue(txn.getResponses(2).getResponseTxn().getSucceeded());
        assertEquals("nested", get("c").getValue().toStringUtf8());
        assertEquals(3, get("c").getModRevision());
        assertEquals(3, result.getRevision());
    }

    @Test
    void txnRefusalIsDetectedBeforeAnyWrite() {
        ks.apply(put("a", "0"));
        CommandResult result =
                ks.apply(
                        txn(
                                List.of(),
                                List.of(
                                        op(putReq("b", "1")),
                                        op(putReq("c", "1").toBuilder().setLease(42).build())),
                                List.of()));
        assertEquals(Failure.Code.LEASE_NOT_FOUND, result.getFailure().getCode());
        assertEquals(null, get("b"));
        ks.apply(put("d", "1"));
        // The refused txn left no half-written revision behind for the next write to publish.
        assertEquals(null, get("b"));
        assertEquals(3, ks.store.revision());

        CommandResult future =
                ks.apply(
                        txn(
                                List.of(),
                                List.of(
                                        op(putReq("e", "1")),
                                        op(rangeReq("a", "").toBuilder().setRevision(50).build())),
                                List.of()));
        assertEquals(Failure.Code.FUTURE_REVISION, future.getFailure().getCode());
        assertEquals(null, get("e"));
    }

    @Test
    void deleteRangeReturnsPrevKvs() {
        ks.apply(put("p/1", "a"));
        ks.apply(put("p/2", "b"));
        ks.apply(put("q", "c"));
        CommandResult result =
                ks.apply(
                        Ops.delete(
                                DeleteRangeRequest.newBuilder()
                                        .setKey(bytes("p/"))
                                        .setRangeEnd(RangeReader.prefixEnd(bytes("p/")))
                                        .setPrevKv(true)
                                        .build()));
        assertEquals(2, result.getDeleteRange().getDeleted());
        assertEquals(
                List.of("a", "b"),
                result.getDeleteRange().getPrevKvsList().stream()
                        .map(kv -> kv.getValue().toStringUtf8())
                        .toList());
        assertEquals(5, result.getRevision());
        assertEquals(1, ks.range(rangeReq("a", "z")).getKvsCount());
    }

    @Test
    void leasesGrantAttachRevokeInOneRevision() {
        CommandResult granted = ks.apply(Ops.grant(0, 30));
        long id = granted.getLeaseGrant().getId();
        assertTrue(id > 0);
        assertEquals(1, granted.getRevision());
        ks.apply(put(putReq("s/1", "x").toBuilder().setLease(id).build()));
        ks.apply(put(putReq("s/2", "y").toBuilder().setLease(id).build()));
        ks.apply(put("other", "z"));
        assertEquals(List.of(bytes("s/1"), bytes("s/2")), ks.store.lease(id).keys());

        CommandResult revoked = ks.apply(Ops.revoke(id));
        assertEquals(5, revoked.getRevision());
        assertEquals(List.of("other"), keys(ks.range(rangeReq("a", "z"))));
        assertEquals("x", getAt("s/1", 4).getValue().toStringUtf8());
        assertEquals(null, getAt("s/1", 5));
        assertEquals(null, ks.store.lease(id));
        assertEquals(List.of("granted " + id + " 30", "revoked " + id), ks.events);

        assertEquals(Failure.Code.LEASE_NOT_FOUND, ks.apply(Ops.revoke(id)).getFailure().getCode());
        assertEquals(
                Failure.Code.LEASE_NOT_FOUND, ks.apply(Ops.keepAlive(id)).getFailure().getCode());
    }

    @Test
    void leaseWithoutKeysRevokesWithoutARevision() {
        ks.apply(Ops.grant(5, 10));
        assertEquals(Failure.Code.LEASE_EXISTS, ks.apply(Ops.grant(5, 10)).getFailure().getCode());
        assertEquals(10, ks.apply(Ops.keepAlive(5)).getLeaseKeepAlive().getTtl());
        assertEquals(1, ks.apply(Ops.revoke(5)).getRevision());
        assertEquals(List.of("granted 5 10", "renewed 5 10", "revoked 5"), ks.events);
    }

    @Test
    void reattachingAKeyMovesItBetweenLeases() {
        ks.apply(Ops.grant(1, 10));
        ks.apply(Ops.grant(2, 10));
        ks.apply(put(putReq("k", "v").toBuilder().setLease(1).build()));
        ks.apply(put(putReq("k", "v").toBuilder().setLease(2).build()));
        assertEquals(List.of(), ks.store.lease(1).keys());
        assertEquals(List.of(bytes("k")), ks.store.lease(2).keys());
        ks.apply(Ops.revoke(1));
        assertEquals("v", get("k").getValue().toStringUtf8());
        ks.apply(Ops.delete("k"));
        assertEquals(List.of(), ks.store.lease(2).keys());
    }

    @Test
    void expiryRevokesEveryListedLeaseInOneRevisionAndSkipsUnknownOnes() {
        ks.apply(Ops.grant(1, 10));
        ks.apply(Ops.grant(2, 10));
        ks.apply(put(putReq("a", "v").toBuilder().setLease(1).build()));
        ks.apply(put(putReq("b", "v").toBuilder().setLease(2).build()));
        CommandResult expired = ks.apply(Ops.expire(1L, 2L, 3L));
        assertEquals(List.of(1L, 2L), expired.getLeaseExpire().getExpiredList());
        assertEquals(4, expired.getRevision());
        assertEquals(0, ks.range(rangeReq("a", "z")).getKvsCount());
    }

    @Test
    void chosenLeaseIdsAreDeterministic() {
        Keyspace other = new Keyspace();
        for (Keyspace k : List.of(ks, other)) {
            k.apply(Ops.grant(2, 10)); // log index 1
            k.apply(Ops.grant(0, 10)); // log index 2: collides with lease 2
            k.apply(Ops.grant(0, 10)); // log index 3
        }
        assertEquals(ks.store.leaseIds(), other.store.leaseIds());
        assertEquals(3, ks.store.leaseIds().size());
        assertTrue(ks.store.leaseIds().contains(3L));
        assertEquals(ks.store.digestNow(), other.store.digestNow());
    }

    @Test
    void binaryKeysOrderAsUnsignedBytes() {
        ks.apply(
                Ops.put(
                        PutRequest.newBuilder()
                                .setKey(ByteString.copyFrom(new byte[] {(byte) 0xff}))
                                .setValue(bytes("high"))
                                .build()));
        ks.apply(put("a", "low"));
        RangeResponse all =
                ks.range(
                        RangeRequest.newBuilder()
                                .setKey(MvccStore.FROM_KEY)
                                .setRangeEnd(MvccStore.FROM_KEY)
                                .build());
        assertEquals(
                List.of("low", "high"),
                all.getKvsList().stream().map(kv -> kv.getValue().toStringUtf8()).toList());
        assertEquals(
                MvccStore.FROM_KEY,
                RangeReader.prefixEnd(ByteString.copyFrom(new byte[] {(byte) 0xff})));
    }
}
