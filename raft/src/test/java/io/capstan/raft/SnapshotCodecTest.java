package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static io.capstan.raft.Ops.rangeReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.MemberDeleteRequest;
import io.capstan.raft.proto.MemberPutRequest;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.SnapshotHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SnapshotCodecTest {

    private static Keyspace populated() {
        Keyspace ks = new Keyspace();
        ks.apply(Ops.grant(9, 60));
        ks.apply(put("a", "1"));
        ks.apply(put("a", "2"));
        ks.apply(put(putReq("leased", "x").toBuilder().setLease(9).build()));
        ks.apply(put("dead", "x"));
        ks.apply(Ops.delete("dead"));
        ks.apply(Ops.compact(3));
        ks.apply(put("b", "3"));
        return ks;
    }

    private static byte[] encode(MvccStore store) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(store, out);
        return out.toByteArray();
    }

    @Test
    void roundTripKeepsHistoryLeasesAndDigest() throws IOException {
        Keyspace ks = populated();
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(encode(ks.store)));

        assertEquals(ks.store.digestNow(), restored.digestNow());
        assertEquals(ks.store.revision(), restored.revision());
        assertEquals(3, restored.compactRevision());
        assertEquals(List.of(Ops.bytes("leased")), restored.lease(9).keys());
        assertEquals(
                "2",
                RangeReader.read(restored, rangeReq("a", ""), 3)
                        .getKvs(0)
                        .getValue()
                        .toStringUtf8());
        assertEquals(
                0,
                RangeReader.read(restored, rangeReq("dead", ""), restored.revision())
                        .getKvsCount());
        assertEquals(1, RangeReader.read(restored, rangeReq("dead", ""), 5).getKvsCount());
    }

    @Test
    void restoredStoreKeepsApplyingLikeTheOriginal() throws IOException {
        Keyspace original = populated();
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(encode(original.store)));
        Applier applier = new Applier(restored, LeaseEvents.NONE, AppliedChanges.NONE);
        original.apply(Ops.revoke(9));
        applier.apply(Ops.revoke(9), 100);
        assertEquals(original.store.digestNow(), restored.digestNow());
    }

    @Test
    void roundTripKeepsTheOrderOfEachRevisionsChanges() throws IOException {
        Keyspace ks = new Keyspace();
        ks.apply(
                Ops.txn(
                        List.of(),
                        List.of(Ops.op(putReq("b", "1")), Ops.op(putReq("a", "2"))),
                        List.of()));
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(encode(ks.store)));
        List<Long> subRevisions = new ArrayList<>();
        restored.forEachHistory((key, history) -> subRevisions.add(history.latest().subRevision()));
        assertEquals(List.of(1L, 0L), subRevisions, "keys a, b: b was written first");
        assertEquals(ks.store.digestNow(), restored.digestNow());
    }

    @Test
    void memberRecordsTravelInSnapshotsAndDigestsWithoutARevision() throws IOException {
        Keyspace ks = populated();
        long revision = ks.store.revision();
        String before = ks.store.digestNow();
        MemberRecord added =
                MemberRecord.newBuilder()
                        .setId(-7)
                        .addPeerUrls("http://127.0.0.1:7484")
                        .setIsLearner(true)
                        .build();
        MemberRecord named =
                MemberRecord.newBuilder()
                        .setId(42)
                        .setName("n1")
                        .addPeerUrls("http://127.0.0.1:7481")
                        .addClientUrls("http://127.0.0.1:23791")
                        .build();
        ks.apply(memberPut(added));
        ks.apply(memberPut(named));

        assertEquals(revision, ks.store.revision(), "membership is not a keyspace write");
        assertNotEquals(before, ks.store.digestNow());
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(encode(ks.store)));
        assertEquals(List.of(named, added), restored.members(), "by unsigned id");
        assertEquals(ks.store.digestNow(), restored.digestNow());

        CommandResult deleted =
                ks.apply(
                        Command.newBuilder()
                                .setMemberDelete(MemberDeleteRequest.newBuilder().setId(-7))
                                .build());
        assertTrue(deleted.getMemberDelete().getDeleted());
        assertEquals(List.of(named), ks.store.members());
    }

    /**
     * A removed member's own publish may be applied after its removal (it read the records before
     * the removal was applied): its record must not come back, here or after a snapshot.
     */
    @Test
    void aRemovedMembersRecordIsNotPutBackBeforeOrAfterASnapshot() throws IOException {
        Keyspace ks = new Keyspace();
        MemberRecord removed =
                MemberRecord.newBuilder()
                        .setId(-7)
                        .setName("n2")
                        .addPeerUrls("http://127.0.0.1:7482")
                        .build();
        MemberRecord kept = removed.toBuilder().setId(42).setName("n1").build();
        ks.apply(memberPut(removed));
        ks.apply(memberPut(kept));
        ks.apply(
                Command.newBuilder()
                        .setMemberDelete(MemberDeleteRequest.newBuilder().setId(-7))
                        .build());

        CommandResult again =
                ks.apply(
                        memberPut(
                                removed.toBuilder()
                                        .addClientUrls("http://127.0.0.1:23792")
                                        .build()));
        assertEquals(Failure.Code.INVALID, again.getFailure().getCode());
        assertTrue(again.getFailure().getMessage().contains("was removed"), again.toString());
        assertEquals(List.of(kept), ks.store.members());
        assertTrue(
                ks.apply(
                                memberPut(
                                        kept.toBuilder()
                                                .addClientUrls("http://127.0.0.1:23791")
                                                .build()))
                        .hasMemberPut());

        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(encode(ks.store)));
        assertEquals(List.of(-7L), restored.removedMembers());
        assertEquals(ks.store.digestNow(), restored.digestNow());
        CommandResult afterSnapshot =
                new Applier(restored, LeaseEvents.NONE, AppliedChanges.NONE)
                        .apply(memberPut(removed), 100);
        assertTrue(afterSnapshot.hasFailure(), afterSnapshot.toString());
        assertEquals(1, restored.members().size());
    }

    private static Command memberPut(MemberRecord record) {
        return Command.newBuilder()
                .setMemberPut(MemberPutRequest.newBuilder().setMember(record))
                .build();
    }

    @Test
    void digestDiffersWhenStateDiffers() {
        Keyspace one = populated();
        Keyspace two = populated();
        two.apply(put("a", "other"));
        assertNotEquals(one.store.digestNow(), two.store.digestNow());
    }

    @Test
    void anEmptyStoreRestoresAtRevisionOne() throws IOException {
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(encode(new MvccStore())));
        assertEquals(1, restored.revision());
        assertEquals(MvccStore.NOT_COMPACTED, restored.compactRevision());
        assertEquals(new MvccStore().digestNow(), restored.digestNow());
    }

    @Test
    void headerRevisionsOutsideTheirBoundsAreAnError() throws IOException {
        IOException belowEmpty =
                assertThrows(
                        IOException.class,
                        () -> SnapshotCodec.read(new ByteArrayInputStream(header(0, 0))));
        assertTrue(belowEmpty.getMessage().contains("snapshot revision 0"));
        IOException compactAhead =
                assertThrows(
                        IOException.class,
                        () -> SnapshotCodec.read(new ByteArrayInputStream(header(4, 5))));
        assertTrue(compactAhead.getMessage().contains("compact revision 5"));
        IOException compactBelow =
                assertThrows(
                        IOException.class,
                        () -> SnapshotCodec.read(new ByteArrayInputStream(header(4, -2))));
        assertTrue(compactBelow.getMessage().contains("compact revision -2"));
        assertEquals(4, SnapshotCodec.read(new ByteArrayInputStream(header(4, 4))).revision());
    }

    private static byte[] header(long revision, long compactRevision) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotHeader.newBuilder()
                .setFormat(SnapshotCodec.FORMAT)
                .setRevision(revision)
                .setCompactRevision(compactRevision)
                .build()
                .writeDelimitedTo(out);
        return out.toByteArray();
    }

    @Test
    void truncatedOrTrailingDataIsAnError() throws IOException {
        byte[] whole = encode(populated().store);
        IOException truncated =
                assertThrows(
                        IOException.class,
                        () ->
                                SnapshotCodec.read(
                                        new ByteArrayInputStream(
                                                Arrays.copyOf(whole, whole.length - 3))));
        assertTrue(truncated.getMessage() != null);
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        assertThrows(IOException.class, () -> SnapshotCodec.read(new ByteArrayInputStream(longer)));
        assertThrows(
                IOException.class, () -> SnapshotCodec.read(new ByteArrayInputStream(new byte[0])));
    }
}
