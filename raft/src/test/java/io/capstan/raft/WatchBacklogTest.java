package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hub's figures for metrics: open watches, revisions waiting for the hub, events waiting for
 * listeners. The test thread plays the apply thread and the hub; a {@link ManualExecutor} holds
 * deliveries back, as slow clients do.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WatchBacklogTest {

    @Test
    void countsFollowWatchesRevisionsAndUndeliveredEvents() {
        ManualExecutor delivery = new ManualExecutor();
        WatchedKeyspace ks =
                new WatchedKeyspace(
                        WatchSettings.DEFAULT,
                        new ManualClock(Instant.parse("2026-01-01T00:00:00Z")),
                        delivery);
        RecordingListener all = new RecordingListener();
        RecordingListener onlyA = new RecordingListener();
        ks.watch(WatchHubTest.spec("\0", "\0", 0), all);
        Watch a = ks.watch(WatchHubTest.spec("a", "", 0), onlyA);
        ks.pump();
        assertEquals(2, ks.hub.watchCount());
        assertEquals(0, ks.hub.pendingEvents());

        ks.apply(put("a", "1"));
        ks.apply(put("b", "2"));
        ks.apply(put("a", "3"));
        assertEquals(3, ks.hub.pendingRevisions(), "applied, not yet taken by the hub");

        ks.pump();
        assertEquals(0, ks.hub.pendingRevisions());
        assertEquals(
                3 + 2, ks.hub.pendingEvents(), "three events for one watch, two for the other");

        delivery.runAll();
        assertEquals(0, ks.hub.pendingEvents());
        assertEquals(3, all.events().size());
        assertEquals(2, onlyA.events().size());

        a.cancel();
        ks.pump();
        delivery.runAll();
        assertEquals(1, ks.hub.watchCount());
        assertEquals(0, ks.hub.pendingEvents());
    }
}
