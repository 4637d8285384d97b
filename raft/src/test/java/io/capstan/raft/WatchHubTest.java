package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.putReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.WatchCanceled.Cause;
import io.capstan.raft.WatchEvent.Type;
import io.capstan.raft.WatchSpec.Filter;
import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.RequestOp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hub's logic, deterministically: the test thread applies commands (the apply thread's role)
 * and runs the hub's passes itself; listeners run inline, or are held back by a {@link
 * ManualExecutor} to play slow clients.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WatchHubTest {
    private static final Executor INLINE = Runnable::run;
    private static final WatchSettings DEFAULTS = WatchSettings.DEFAULT;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    private WatchedKeyspace keyspace(WatchSettings settings, Executor delivery) {
        return new WatchedKeyspace(settings, clock, delivery);
    }

    private static WatchSettings settings(int buffer, int handoff, int catchUp, int maxWatches) {
        return new WatchSettings(buffer, handoff, catchUp, maxWatches, Duration.ofMinutes(1));
    }

    static WatchSpec spec(String key, String end, long start) {
        return new WatchSpec(bytes(key), bytes(end), start, false, Set.of(), false);
    }

    static WatchSpec withPrevKv(WatchSpec spec) {
        return new WatchSpec(
                spec.key(),
                spec.rangeEnd(),
                spec.startRevision(),
                true,
                spec.filters(),
                spec.progressNotify());
    }

    static WatchSpec everything(long start) {
        return spec("\0", "\0", start);
    }

    private static List<String> keys(RecordingListener listener) {
        return listener.events().stream().map(e -> e.kv().getKey().toStringUtf8()).toList();
    }

    private static List<String> values(RecordingListener listener) {
        return listener.events().stream().map(e -> e.kv().getValue().toStringUtf8()).toList();
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void liveEventsArriveOncePerRevisionInOrderWithEtcdFields() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener listener = new RecordingListener();
        Watch watch = ks.watch(spec("a/", "a0", 0), listener);
        assertEquals(1, watch.createdRevision());
        assertEquals(2, watch.startRevision());
        ks.pump();

        ks.apply(put("a/1", "v1"));
        ks.apply(put("b/x", "v"));
        ks.apply(put("a/1", "v2"));
        ks.apply(Ops.delete("a/1"));
        ks.apply(
                Ops.txn(
                        List.of(),
                        List.of(op(putReq("a/3", "x")), op(putReq("a/2", "y"))),
                        List.of()));
        ks.pump();
        ks.pump();

        assertEquals(List.of(2L, 4L, 5L, 6L), listener.revisions());
        List<WatchEvent> events = listener.events();
        assertEquals(
                List.of(Type.PUT, Type.PUT, Type.DELETE, Type.PUT, Type.PUT),
                events.stream().map(WatchEvent::type).toList());
        assertEquals(
                KeyValue.newBuilder()
                        .setKey(bytes("a/1"))
                        .setValue(bytes("v1"))
                        .setCreateRevision(2)
                        .setModRevision(2)
                        .setVersion(1)
                        .build(),
                events.get(0).kv());
        assertEquals(
                KeyValue.newBuilder()
                        .setKey(bytes("a/1"))
                        .setValue(bytes("v2"))
                        .setCreateRevision(2)
                        .setModRevision(4)
                        .setVersion(2)
                        .build(),
                events.get(1).kv());
        assertEquals(
                KeyValue.newBuilder().setKey(bytes("a/1")).setModRevision(5).build(),
                events.get(2).kv(),
                "a delete reports the key and the delete's revision only");
        assertEquals(
                List.of("a/1", "a/1", "a/1", "a/3", "a/2"),
                keys(listener),
                "a revision's events in the order they were made, as etcd");
        assertTrue(events.stream().allMatch(e -> e.prevKv() == null), "prev_kv was not asked for");
        assertEquals(List.of(), listener.violations());
        assertFalse(listener.canceled.isDone());
    }

    @Test
    void revisionsAppliedWhileNoWatchExistedReachALaterWatchFromHistoryOnceEach() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        ks.pump();
        ks.apply(put("k", "v1"));
        ks.apply(put("k", "v2"));
        assertEquals(0, ks.hub.pendingRevisions(), "no watch: nothing is handed to the hub");
        ks.pump();

        RecordingListener fromStart = new RecordingListener();
        ks.watch(everything(2), fromStart);
        RecordingListener fromNow = new RecordingListener();
        Watch now = ks.watch(everything(0), fromNow);
        ks.apply(put("k", "v3"));
        ks.pump();
        ks.apply(put("k", "v4"));
        ks.pump();
        ks.pump();

        assertEquals(List.of("v1", "v2", "v3", "v4"), values(fromStart));
        assertEquals(List.of(2L, 3L, 4L, 5L), fromStart.revisions());
        assertEquals(4, now.startRevision());
        assertEquals(List.of("v3", "v4"), values(fromNow));
    }

    @Test
    void prevKvCarriesTheReplacedVersionLiveAndReplayedAlike() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener live = new RecordingListener();
        ks.watch(withPrevKv(spec("k", "", 0)), live);
        ks.pump();
        ks.apply(put("k", "v1"));
        ks.apply(put("k", "v2"));
        ks.apply(Ops.delete("k"));
        ks.apply(put("k", "v3"));
        ks.pump();

        List<WatchEvent> events = live.events();
        assertEquals(4, events.size());
        assertNull(events.get(0).prevKv());
        assertEquals("v1", events.get(1).prevKv().getValue().toStringUtf8());
        assertEquals(2, events.get(1).prevKv().getModRevision());
        assertEquals(Type.DELETE, events.get(2).type());
        assertEquals("v2", events.get(2).prevKv().getValue().toStringUtf8());
        assertNull(events.get(3).prevKv(), "the key did not exist before revision 5");
        assertEquals(5, events.get(3).kv().getCreateRevision());

        RecordingListener replayed = new RecordingListener();
        ks.watch(withPrevKv(spec("k", "", 2)), replayed);
        RecordingListener bare = new RecordingListener();
        ks.watch(spec("k", "", 2), bare);
        ks.pump();
        assertEquals(events, replayed.events());
        assertEquals(live.revisions(), replayed.revisions());
        assertTrue(bare.events().stream().allMatch(e -> e.prevKv() == null));
        assertEquals(4, bare.events().size());
    }

    @Test
    void replayedRevisionsKeepTheOrderTheirChangesWereMadeIn() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener live = new RecordingListener();
        ks.watch(spec("t/", "t0", 0), live);
        ks.pump();
        ks.apply(put("t/b", "1"));
        ks.apply(put("t/d", "1"));
        ks.apply(
                Ops.txn(
                        List.of(),
                        List.of(
                                op(putReq("t/z", "2")),
                                op(Ops.deleteReq("t/b", "t/e")),
                                op(putReq("t/a", "2"))),
                        List.of()));
        ks.pump();
        RecordingListener replayed = new RecordingListener();
        ks.watch(spec("t/", "t0", 2), replayed);
        ks.pump();

        List<String> expected = List.of("t/b", "t/d", "t/z", "t/b", "t/d", "t/a");
        assertEquals(expected, keys(live));
        assertEquals(expected, keys(replayed));
        assertEquals(live.events(), replayed.events());
    }

    @Test
    void filtersDropPutsOrDeletes() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener noPut = new RecordingListener();
        RecordingListener noDelete = new RecordingListener();
        ks.watch(
                new WatchSpec(bytes("k"), ByteString.EMPTY, 0, false, Set.of(Filter.NOPUT), false),
                noPut);
        ks.watch(
                new WatchSpec(
                        bytes("k"), ByteString.EMPTY, 0, false, Set.of(Filter.NODELETE), false),
                noDelete);
        ks.pump();
        ks.apply(put("k", "1"));
        ks.apply(Ops.delete("k"));
        ks.apply(put("k", "2"));
        ks.pump();

        assertEquals(List.of(3L), noPut.revisions());
        assertEquals(Type.DELETE, noPut.events().get(0).type());
        assertEquals(List.of(2L, 4L), noDelete.revisions());
        assertTrue(noDelete.events().stream().allMatch(e -> e.type() == Type.PUT));
    }

    @Test
    void singleKeysRangesPrefixesAndFromKey() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener single = new RecordingListener();
        RecordingListener range = new RecordingListener();
        RecordingListener fromKey = new RecordingListener();
        RecordingListener prefix = new RecordingListener();
        RecordingListener all = new RecordingListener();
        ks.watch(spec("b", "", 0), single);
        ks.watch(spec("b", "d", 0), range);
        ks.watch(spec("c", "\0", 0), fromKey);
        ks.watch(
                new WatchSpec(
                        bytes("a"), RangeReader.prefixEnd(bytes("a")), 0, false, Set.of(), false),
                prefix);
        ks.watch(everything(0), all);
        ks.pump();
        for (String key : List.of("a", "ab", "b", "bb", "c", "d", "e")) {
            ks.apply(put(key, "v"));
        }
        ks.pump();

        assertEquals(List.of("b"), keys(single));
        assertEquals(List.of("b", "bb", "c"), keys(range));
        assertEquals(List.of("c", "d", "e"), keys(fromKey));
        assertEquals(List.of("a", "ab"), keys(prefix));
        assertEquals(List.of("a", "ab", "b", "bb", "c", "d", "e"), keys(all));
    }

    @Test
    void historyReplaySwitchesToLiveEventsWithoutGapOrDuplicate() {
        // Two revisions of history per pass: the replay spans several passes while writes go on.
        WatchedKeyspace ks = keyspace(settings(1_000, 1_000, 2, 100), INLINE);
        for (int i = 1; i <= 5; i++) {
            ks.apply(put("k", "v" + i));
        }
        RecordingListener listener = new RecordingListener();
        Watch watch = ks.watch(spec("k", "", 3), listener);
        assertEquals(6, watch.createdRevision());
        ks.apply(put("k", "v6"));
        ks.apply(put("k", "v7"));
        assertTrue(ks.hub.runOnce(), "the replay needs more passes");
        assertEquals(List.of(3L, 4L), listener.revisions());
        ks.apply(put("k", "v8"));
        assertTrue(ks.hub.runOnce());
        ks.apply(put("k", "v9"));
        ks.pump();
        ks.apply(put("k", "v10"));
        ks.pump();

        assertEquals(range(3, 11), listener.revisions());
        assertEquals(
                List.of("v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"), values(listener));

        RecordingListener future = new RecordingListener();
        Watch later = ks.watch(spec("k", "", 14), future);
        assertEquals(14, later.startRevision());
        ks.pump();
        for (int i = 11; i <= 14; i++) {
            ks.apply(put("k", "v" + i));
        }
        ks.pump();
        assertEquals(List.of(14L, 15L), future.revisions());
        assertEquals(List.of(), listener.violations());
    }

    @Test
    void aStartBelowTheCompactRevisionIsCanceledWithIt() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        for (int i = 1; i <= 5; i++) {
            ks.apply(put("k", "v" + i));
        }
        ks.apply(Ops.compact(4));
        RecordingListener tooOld = new RecordingListener();
        RecordingListener atCompaction = new RecordingListener();
        ks.watch(spec("k", "", 3), tooOld);
        ks.watch(spec("k", "", 4), atCompaction);
        ks.pump();

        WatchCanceled canceled = tooOld.cancellation();
        assertEquals(Cause.COMPACTED, canceled.cause());
        assertEquals(4, canceled.compactRevision());
        assertTrue(canceled.reason().contains("compacted"), canceled.reason());
        assertEquals(List.of(), tooOld.revisions());
        assertEquals(List.of(4L, 5L, 6L), atCompaction.revisions());
        assertFalse(atCompaction.canceled.isDone());
    }

    @Test
    void compactionDuringACatchUpCancelsWithTheCompactRevision() {
        ManualExecutor delivery = new ManualExecutor();
        WatchedKeyspace ks = keyspace(settings(2, 1_000, 1, 100), delivery);
        for (int i = 1; i <= 10; i++) {
            ks.apply(put("k", "v" + i));
        }
        RecordingListener listener = new RecordingListener();
        ks.watch(spec("k", "", 2), listener);
        ks.pump(); // replays 2 and 3, then the buffer is full
        ks.apply(Ops.compact(9));
        delivery.runAll();
        ks.pump();
        delivery.runAll();

        assertEquals(List.of(2L, 3L), listener.revisions());
        assertEquals(Cause.COMPACTED, listener.cancellation().cause());
        assertEquals(9, listener.cancellation().compactRevision());
    }

    @Test
    void aWatchThatLostLiveRevisionsIsCanceledWhenCompactionDroppedADeleteItWasOwed() {
        WatchedKeyspace ks = keyspace(settings(1_000, 1, 1_000, 100), INLINE);
        ks.apply(put("p/a", "v1")); // revision 2
        RecordingListener live = new RecordingListener();
        RecordingListener future = new RecordingListener();
        ks.watch(spec("p/", "p0", 0), live); // from revision 3
        ks.watch(spec("p/", "p0", 4), future);
        ks.pump();
        ks.apply(put("x", "v2")); // revision 3 fills the handoff
        ks.apply(Ops.delete("p/a")); // revision 4, dropped from the handoff
        ks.apply(put("p/b", "v3")); // revision 5, dropped too
        ks.apply(Ops.compact(4)); // takes the tombstone of p/a at 4 out of history
        RecordingListener startedThere = new RecordingListener();
        ks.watch(spec("p/", "p0", 4), startedThere);
        ks.pump();

        for (RecordingListener owedTheDelete : List.of(live, future)) {
            assertEquals(List.of(), owedTheDelete.revisions());
            assertEquals(Cause.COMPACTED, owedTheDelete.cancellation().cause());
            assertEquals(4, owedTheDelete.cancellation().compactRevision());
        }
        // As in etcd, a watch started at the compact revision is not owed what it dropped.
        assertEquals(List.of(5L), startedThere.revisions());
        assertFalse(startedThere.canceled.isDone());
    }

    @Test
    void aSlowWatcherIsCanceledWithItsResumeRevisionAndTheOthersCarryOn() {
        ManualExecutor delivery = new ManualExecutor();
        WatchedKeyspace ks = keyspace(settings(3, 1_000, 1_000, 100), delivery);
        RecordingListener slow = new RecordingListener();
        RecordingListener other = new RecordingListener();
        ks.watch(everything(0), slow);
        ks.watch(spec("x", "", 0), other);
        ks.pump();
        for (int i = 1; i <= 4; i++) {
            ks.apply(put("a", "v" + i));
        }
        ks.apply(put("x", "v5"));
        ks.pump();
        delivery.runAll();

        assertEquals(List.of(2L, 3L, 4L), slow.revisions(), "what was buffered is still delivered");
        WatchCanceled canceled = slow.cancellation();
        assertEquals(Cause.TOO_SLOW, canceled.cause());
        assertEquals(5, canceled.resumeRevision());
        assertTrue(canceled.reason().contains("resume from revision 5"), canceled.reason());
        assertEquals(List.of(6L), other.revisions());
        assertFalse(other.canceled.isDone());

        RecordingListener resumed = new RecordingListener();
        ks.watch(everything(canceled.resumeRevision()), resumed);
        ks.pump();
        delivery.runAll();
        assertEquals(List.of(5L, 6L), resumed.revisions());
        assertEquals(List.of(), slow.violations());
    }

    @Test
    void aRevisionLargerThanTheBufferIsAcceptedOnlyIntoAnEmptyBuffer() {
        ManualExecutor delivery = new ManualExecutor();
        WatchedKeyspace ks = keyspace(settings(2, 1_000, 1_000, 100), delivery);
        RecordingListener listener = new RecordingListener();
        ks.watch(everything(0), listener);
        ks.pump();
        List<RequestOp> five = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            five.add(op(putReq("k" + i, "v")));
        }
        ks.apply(Ops.txn(List.of(), five, List.of()));
        ks.apply(put("k0", "again"));
        ks.pump();
        delivery.runAll();

        assertEquals(List.of(2L), listener.revisions());
        assertEquals(5, listener.eventCount());
        assertEquals(Cause.TOO_SLOW, listener.cancellation().cause());
        assertEquals(3, listener.cancellation().resumeRevision());
    }

    @Test
    void anOverflowingHandoffLosesNothing() {
        WatchedKeyspace ks = keyspace(settings(1_000, 2, 1_000, 100), INLINE);
        WatchSpec spec = withPrevKv(everything(0));
        RecordingListener listener = new RecordingListener();
        ks.watch(spec, listener);
        ks.pump();
        for (int i = 1; i <= 20; i++) {
            ks.apply(i % 4 == 0 ? Ops.delete("k" + (i % 3)) : put("k" + (i % 3), "v" + i));
        }
        ks.pump();
        ks.apply(put("k9", "after"));
        ks.pump();

        assertEquals(ks.expectedEvents(spec, 2), listener.events());
        assertEquals(ks.expectedRevisions(spec, 2), listener.revisions());
        assertEquals(List.of(), listener.violations());
    }

    @Test
    void anInstalledSnapshotFeedsWatchesFromItsHistory() throws IOException {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        Keyspace leader = new Keyspace();
        RecordingListener listener = new RecordingListener();
        ks.watch(withPrevKv(everything(0)), listener);
        ks.pump();
        for (int i = 1; i <= 3; i++) {
            ks.apply(put("k" + (i % 2), "v" + i));
            leader.apply(put("k" + (i % 2), "v" + i));
        }
        ks.pump();
        for (int i = 4; i <= 6; i++) {
            leader.apply(put("k" + (i % 2), "v" + i));
        }
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        SnapshotCodec.write(leader.store, snapshot);
        ks.install(SnapshotCodec.read(new ByteArrayInputStream(snapshot.toByteArray())));
        ks.pump();
        ks.apply(put("k1", "v7"));
        ks.pump();

        assertEquals(range(2, 8), listener.revisions());
        List<WatchEvent> events = listener.events();
        for (int i = 1; i <= 7; i++) {
            WatchEvent event = events.get(i - 1);
            assertEquals("k" + (i % 2), event.kv().getKey().toStringUtf8());
            assertEquals("v" + i, event.kv().getValue().toStringUtf8());
            if (i >= 3) {
                assertEquals(
                        "v" + (i - 2),
                        event.prevKv().getValue().toStringUtf8(),
                        "revision " + (i + 1));
            }
        }
    }

    @Test
    void leaseRevocationExpiryAndTransactionsReportDeletes() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        ks.apply(Ops.grant(1, 100));
        ks.apply(put(putReq("a", "va").toBuilder().setLease(1).build()));
        ks.apply(put(putReq("b", "vb").toBuilder().setLease(1).build()));
        ks.apply(put("c", "vc"));
        RecordingListener listener = new RecordingListener();
        ks.watch(withPrevKv(everything(0)), listener);
        ks.pump();

        ks.apply(Ops.revoke(1));
        ks.apply(Ops.grant(2, 100));
        ks.apply(put(putReq("d", "vd").toBuilder().setLease(2).build()));
        ks.apply(Ops.expire(2L));
        ks.apply(Ops.txn(List.of(), List.of(op(Ops.deleteReq("c", ""))), List.of()));
        ks.pump();

        assertEquals(List.of(5L, 6L, 7L, 8L), listener.revisions());
        List<WatchEvent> events = listener.events();
        assertEquals(
                List.of(Type.DELETE, Type.DELETE, Type.PUT, Type.DELETE, Type.DELETE),
                events.stream().map(WatchEvent::type).toList());
        assertEquals(List.of("a", "b", "d", "d", "c"), keys(listener));
        assertEquals("va", events.get(0).prevKv().getValue().toStringUtf8());
        assertEquals(5, events.get(1).kv().getModRevision(), "one revocation, one revision");
        assertEquals("vd", events.get(3).prevKv().getValue().toStringUtf8());
        assertEquals("vc", events.get(4).prevKv().getValue().toStringUtf8());
    }

    @Test
    void progressIsSentWhenQuietOrAskedFor() {
        WatchedKeyspace ks = keyspace(settings(1_000, 1_000, 1_000, 100), INLINE);
        RecordingListener quiet = new RecordingListener();
        RecordingListener busy = new RecordingListener();
        RecordingListener silent = new RecordingListener();
        ks.watch(new WatchSpec(bytes("q"), ByteString.EMPTY, 0, false, Set.of(), true), quiet);
        ks.watch(new WatchSpec(bytes("b"), ByteString.EMPTY, 0, false, Set.of(), true), busy);
        Watch asked = ks.watch(spec("q", "", 0), silent);
        ks.pump();
        ks.apply(put("b", "1"));
        ks.pump();

        clock.advance(Duration.ofSeconds(61));
        ks.pump();
        assertEquals(List.of(2L), quiet.progress());
        assertEquals(List.of(), busy.progress(), "it reported an event in this interval");
        clock.advance(Duration.ofSeconds(61));
        ks.pump();
        assertEquals(List.of(2L, 2L), quiet.progress());
        assertEquals(List.of(2L), busy.progress());
        assertEquals(List.of(), silent.progress(), "it did not ask for progress notifications");

        asked.requestProgress();
        ks.pump();
        assertEquals(List.of(2L), silent.progress());
    }

    @Test
    void progressAskedForDuringACatchUpComesOnceCaughtUpAfterTheEvents() {
        ManualExecutor delivery = new ManualExecutor();
        WatchedKeyspace ks = keyspace(settings(2, 1_000, 1, 100), delivery);
        for (int i = 1; i <= 4; i++) {
            ks.apply(put("k", "v" + i));
        }
        RecordingListener listener = new RecordingListener();
        Watch watch = ks.watch(spec("k", "", 2), listener);
        ks.pump();
        watch.requestProgress();
        watch.requestProgress();
        ks.pump();
        delivery.runAll();
        assertEquals(List.of(), listener.progress());
        ks.pump();
        delivery.runAll();

        assertEquals(range(2, 5), listener.revisions());
        assertEquals(List.of(5L), listener.progress(), "once, at the revision caught up to");
        assertEquals(List.of(), listener.violations());
    }

    @Test
    void cancelDropsWhatIsQueuedAndEndsOnce() {
        ManualExecutor delivery = new ManualExecutor();
        WatchedKeyspace ks = keyspace(DEFAULTS, delivery);
        RecordingListener listener = new RecordingListener();
        Watch watch = ks.watch(everything(0), listener);
        ks.pump();
        ks.apply(put("a", "1"));
        ks.pump();
        watch.cancel();
        watch.cancel();
        ks.pump();
        ks.apply(put("b", "2"));
        ks.pump();
        delivery.runAll();
        watch.cancel();
        ks.pump();
        delivery.runAll();

        assertEquals(List.of(), listener.revisions());
        assertEquals(Cause.CANCELED, listener.cancellation().cause());
        assertEquals(List.of(), listener.violations());
    }

    @Test
    void watchesBeyondTheLimitAreRefused() {
        WatchedKeyspace ks = keyspace(settings(100, 100, 100, 2), INLINE);
        Watch first = ks.watch(everything(0), new RecordingListener());
        ks.watch(everything(0), new RecordingListener());
        RecordingListener refused = new RecordingListener();
        ks.watch(everything(0), refused);
        assertEquals(Cause.TOO_MANY_WATCHES, refused.cancellation().cause());

        first.cancel();
        ks.pump();
        RecordingListener admitted = new RecordingListener();
        ks.watch(everything(0), admitted);
        ks.pump();
        ks.apply(put("k", "v"));
        ks.pump();
        assertEquals(List.of(2L), admitted.revisions());
        assertFalse(admitted.canceled.isDone());
    }

    @Test
    void aListenerThatThrowsIsCanceled() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener failing =
                new RecordingListener() {
                    @Override
                    void received(long revision, List<WatchEvent> batch) {
                        throw new IllegalStateException("client gone");
                    }
                };
        RecordingListener healthy = new RecordingListener();
        ks.watch(everything(0), failing);
        ks.watch(everything(0), healthy);
        ks.pump();
        ks.apply(put("a", "1"));
        ks.pump();
        ks.apply(put("a", "2"));
        ks.pump();

        assertEquals(List.of(2L), failing.revisions());
        assertEquals(Cause.LISTENER_FAILED, failing.cancellation().cause());
        assertTrue(failing.cancellation().reason().contains("client gone"));
        assertEquals(List.of(2L, 3L), healthy.revisions());
    }

    @Test
    void closingEndsEveryWatchWithWhereToResume() {
        WatchedKeyspace ks = keyspace(DEFAULTS, INLINE);
        RecordingListener synced = new RecordingListener();
        ks.watch(spec("a", "", 0), synced);
        ks.pump();
        ks.apply(put("a", "1"));
        ks.apply(put("a", "2"));
        ks.pump();
        ks.hub.closeNow("member stopping");

        assertEquals(List.of(2L, 3L), synced.revisions());
        assertEquals(Cause.STOPPED, synced.cancellation().cause());
        assertEquals(4, synced.cancellation().resumeRevision());

        RecordingListener late = new RecordingListener();
        ks.watch(spec("a", "", 3), late);
        assertEquals(Cause.STOPPED, late.cancellation().cause());
        assertEquals(3, late.cancellation().resumeRevision());
    }

    @Test
    void badSpecsAreRefusedWithTheProblemNamed() {
        InvalidCommandException negative =
                assertThrows(InvalidCommandException.class, () -> spec("k", "", -1));
        assertTrue(negative.getMessage().contains("start_revision"));
        CommandValidator validator = new CommandValidator(Limits.DEFAULT);
        InvalidCommandException large =
                assertThrows(
                        InvalidCommandException.class,
                        () ->
                                validator.validate(
                                        WatchSpec.ofKey(ByteString.copyFrom(new byte[2_000]))));
        assertEquals(InvalidCommandException.Reason.KEY_TOO_LARGE, large.reason());
    }
}
