package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.AlarmChangeRequest;
import io.capstan.raft.proto.AlarmMember;
import io.capstan.raft.proto.AlarmType;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** etcd's alarms in the replicated store: raising, clearing, the NOSPACE cap, snapshots. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AlarmCommandsTest {

    @Test
    void aRaisedNoSpaceRefusesWhatAddsDataAndNothingElseUntilCleared() {
        Keyspace ks = new Keyspace();
        ks.apply(put("kept", "1"));
        ks.apply(Ops.grant(9, 60));
        CommandResult raised = ks.apply(change(true, 7, AlarmType.NOSPACE));
        assertTrue(!raised.hasFailure(), raised.toString());
        assertEquals(List.of(alarm(7, AlarmType.NOSPACE)), raised.getAlarmChange().getAlarmsList());
        assertEquals(
                List.of(alarm(7, AlarmType.NOSPACE)),
                ks.apply(change(true, 7, AlarmType.NOSPACE)).getAlarmChange().getAlarmsList(),
                "raising it again answers the alarm, as etcd does");
        String before = ks.store.digestNow();
        long revision = ks.store.revision();

        for (Command adds :
                List.of(
                        put("new", "v"),
                        Ops.grant(10, 60),
                        Ops.txn(List.of(), List.of(), List.of(Ops.op(putReq("txn", "v")))))) {
            Failure refused = ks.apply(adds).getFailure();
            assertEquals(Failure.Code.NO_SPACE, refused.getCode(), adds.toString());
            assertEquals("mvcc: database space exceeded", refused.getMessage());
        }
        assertEquals(before, ks.store.digestNow(), "a refused write changes nothing");
        assertEquals(revision, ks.store.revision());

        assertEquals(
                1, ks.apply(Ops.delete("kept")).getDeleteRange().getDeleted(), "deletes go on");
        CommandResult revoked = ks.apply(Ops.revoke(9));
        assertTrue(!revoked.hasFailure(), "revokes go on: " + revoked);

        assertEquals(
                List.of(alarm(7, AlarmType.NOSPACE)),
                ks.apply(change(false, 7, AlarmType.NOSPACE)).getAlarmChange().getAlarmsList());
        assertEquals(
                List.of(),
                ks.apply(change(false, 7, AlarmType.NOSPACE)).getAlarmChange().getAlarmsList(),
                "clearing an alarm that is not raised clears nothing");
        ks.apply(put("new", "v"));
    }

    @Test
    void alarmsAreListedByMemberThenTypeAndOnlyNoSpaceCaps() {
        Keyspace ks = new Keyspace();
        ks.apply(change(true, -1, AlarmType.NOSPACE));
        ks.apply(change(true, 3, AlarmType.CORRUPT));
        ks.apply(change(true, 3, AlarmType.NOSPACE));
        assertEquals(
                List.of(
                        alarm(3, AlarmType.NOSPACE),
                        alarm(3, AlarmType.CORRUPT),
                        alarm(-1, AlarmType.NOSPACE)),
                AlarmCommands.list(ks.store, AlarmType.NONE),
                "by unsigned member id");
        assertEquals(
                List.of(alarm(3, AlarmType.CORRUPT)),
                AlarmCommands.list(ks.store, AlarmType.CORRUPT));

        ks.apply(change(false, 3, AlarmType.NOSPACE));
        ks.apply(change(false, -1, AlarmType.NOSPACE));
        ks.apply(put("k", "v"));
        assertEquals(1, ks.store.alarms().size(), "CORRUPT refuses nothing");
    }

    @Test
    void onlyNoSpaceAndCorruptCanBeRaisedOrCleared() {
        Keyspace ks = new Keyspace();
        InvalidCommandException refused =
                assertThrows(
                        InvalidCommandException.class,
                        () -> ks.apply(change(true, 1, AlarmType.NONE)));
        assertTrue(refused.getMessage().contains("alarm_change.alarm"), refused.getMessage());
    }

    @Test
    void alarmsTravelInSnapshotsAndDigests() throws IOException {
        Keyspace ks = new Keyspace();
        ks.apply(put("a", "1"));
        String without = ks.store.digestNow();
        ks.apply(change(true, 5, AlarmType.NOSPACE));
        assertNotEquals(without, ks.store.digestNow());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(ks.store, out);
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(List.of(alarm(5, AlarmType.NOSPACE)), restored.alarms());
        assertEquals(ks.store.digestNow(), restored.digestNow());
        Applier applier = new Applier(restored, LeaseEvents.NONE, AppliedChanges.NONE);
        assertEquals(
                Failure.Code.NO_SPACE, applier.apply(put("b", "2"), 100).getFailure().getCode());
    }

    private static Command change(boolean activate, long memberId, AlarmType type) {
        return Command.newBuilder()
                .setAlarmChange(
                        AlarmChangeRequest.newBuilder()
                                .setActivate(activate)
                                .setMemberId(memberId)
                                .setAlarm(type))
                .build();
    }

    private static AlarmMember alarm(long memberId, AlarmType type) {
        return AlarmMember.newBuilder().setMemberId(memberId).setAlarm(type).build();
    }
}
