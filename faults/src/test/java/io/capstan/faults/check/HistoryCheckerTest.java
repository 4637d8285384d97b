package io.capstan.faults.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.faults.history.Event;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The checks against the final log: lost writes, watches, leases, and revisions per client. */
@Timeout(60)
class HistoryCheckerTest {
    private static final String LOG = HistoryChecker.LOG;

    private static CheckReport check(HistoryBuilder h) {
        return new HistoryChecker(Duration.ofSeconds(10), 100_000).check(h.events());
    }

    /** Two puts at revisions 2 and 3, a read, and the log holding both. */
    private static HistoryBuilder twoPuts() {
        return new HistoryBuilder()
                .put("c0", "reg/0", "a", 0, 1, null, 2)
                .put("c1", "reg/1", "b", 2, 3, null, 3)
                .get("c0", "reg/0", 4, 5, "a", 2, 3);
    }

    private static HistoryBuilder logOf(HistoryBuilder h, double at) {
        return h.open(LOG, "", 1, at)
                .logged(LOG, "reg/0", "a", 2, at)
                .logged(LOG, "reg/1", "b", 3, at);
    }

    @Test
    void aCompleteLogHoldingEveryAcknowledgedWritePasses() {
        CheckReport r = check(logOf(twoPuts(), 10).close(LOG, 3L, null, 11));
        assertFalse(r.violated(), r.details().toString());
        assertTrue(r.conclusive(), r.inconclusive().toString());
    }

    @Test
    void anAcknowledgedWriteMissingFromTheLogIsLost() {
        HistoryBuilder h = twoPuts().put("c1", "reg/1", "c", 6, 7, "b", 4);
        CheckReport r = check(logOf(h, 10).close(LOG, 3L, null, 11));
        assertEquals(1, r.count("lost-write"), r.details().toString());
        assertTrue(r.violated());
    }

    @Test
    void aWriteAppliedTwiceIsADuplicate() {
        HistoryBuilder h =
                logOf(twoPuts(), 10).logged(LOG, "reg/0", "a", 4, 10).close(LOG, 4L, null, 11);
        assertEquals(1, check(h).count("duplicate-write"));
    }

    @Test
    void aLogWithAHoleInItsRevisionsIsAViolation() {
        HistoryBuilder h = twoPuts().put("c0", "reg/0", "d", 6, 7, "a", 5);
        h = logOf(h, 10).logged(LOG, "reg/0", "d", 5, 10).close(LOG, 5L, null, 11);
        assertEquals(1, check(h).count("log"));
    }

    @Test
    void withoutACompleteLogTheLogChecksAreInconclusive() {
        CheckReport r = check(logOf(twoPuts(), 10).close(LOG, null, "deadline exceeded", 11));
        assertFalse(r.conclusive());
        assertTrue(r.inconclusive().get(0).contains("deadline exceeded"));
        assertEquals("yes", r.linearizable());
    }

    @Test
    void aWatchThatDeliversEveryRevisionAcrossAReconnectPasses() {
        HistoryBuilder h =
                logOf(twoPuts(), 10)
                        .close(LOG, 3L, null, 11)
                        .open("w0", "reg/", 1, 0)
                        .logged("w0", "reg/0", "a", 2, 1.5)
                        .open("w0", "reg/", 3, 2)
                        .logged("w0", "reg/1", "b", 3, 3.5);
        CheckReport r = check(h);
        assertEquals(0, r.count("watch"), r.details().toString());
    }

    @Test
    void aWatchGapIsAViolation() {
        HistoryBuilder h =
                logOf(twoPuts(), 10)
                        .close(LOG, 3L, null, 11)
                        .open("w0", "reg/", 1, 0)
                        .open("w0", "reg/", 3, 2)
                        .logged("w0", "reg/1", "b", 3, 3.5);
        CheckReport r = check(h);
        assertEquals(1, r.count("watch"), r.details().toString());
    }

    @Test
    void aWatchDuplicateAcrossAReconnectIsAViolation() {
        HistoryBuilder h =
                logOf(twoPuts(), 10)
                        .close(LOG, 3L, null, 11)
                        .open("w0", "reg/", 1, 0)
                        .logged("w0", "reg/0", "a", 2, 1.5)
                        .open("w0", "reg/", 2, 2)
                        .logged("w0", "reg/0", "a", 2, 2.5)
                        .logged("w0", "reg/1", "b", 3, 3.5);
        assertTrue(check(h).count("watch") >= 1);
    }

    @Test
    void aWatchThatStopsShortOfTheLogIsAViolation() {
        HistoryBuilder h =
                logOf(twoPuts(), 10)
                        .close(LOG, 3L, null, 11)
                        .open("w0", "reg/", 1, 0)
                        .logged("w0", "reg/0", "a", 2, 1.5);
        assertEquals(1, check(h).count("watch"));
    }

    private static HistoryBuilder leaseLog(String... deletedAt4) {
        HistoryBuilder h =
                new HistoryBuilder()
                        .open(LOG, "", 1, 20)
                        .event(
                                Event.of(LOG, Event.EVENT, "watch")
                                        .key("lease/a/0")
                                        .value("x")
                                        .eventType("put")
                                        .revision(2)
                                        .lease(10),
                                20)
                        .event(
                                Event.of(LOG, Event.EVENT, "watch")
                                        .key("lease/a/1")
                                        .value("y")
                                        .eventType("put")
                                        .revision(3)
                                        .lease(10),
                                20);
        for (String key : deletedAt4) {
            h.loggedDelete(LOG, key, 4, 20);
        }
        return h.close(LOG, 4L, null, 21);
    }

    @Test
    void anExpiryDeletingAllItsKeysPasses() {
        CheckReport r = check(leaseLog("lease/a/0", "lease/a/1"));
        assertEquals(0, r.count("lease"), r.details().toString());
    }

    @Test
    void anExpiryDeletingPartOfItsKeysIsAViolation() {
        CheckReport r = check(leaseLog("lease/a/0"));
        assertEquals(1, r.count("lease"), r.details().toString());
    }

    /**
     * Lease 10 holding lease/a/0 and lease/a/1, lease 11 holding lease/b/0, and {@code deletedAt5}
     * at revision 5.
     */
    private static HistoryBuilder twoLeasesLog(String... deletedAt5) {
        HistoryBuilder h =
                new HistoryBuilder()
                        .open(LOG, "", 1, 20)
                        .event(
                                Event.of(LOG, Event.EVENT, "watch")
                                        .key("lease/a/0")
                                        .value("x")
                                        .eventType("put")
                                        .revision(2)
                                        .lease(10),
                                20)
                        .event(
                                Event.of(LOG, Event.EVENT, "watch")
                                        .key("lease/a/1")
                                        .value("y")
                                        .eventType("put")
                                        .revision(3)
                                        .lease(10),
                                20)
                        .event(
                                Event.of(LOG, Event.EVENT, "watch")
                                        .key("lease/b/0")
                                        .value("z")
                                        .eventType("put")
                                        .revision(4)
                                        .lease(11),
                                20);
        for (String key : deletedAt5) {
            h.loggedDelete(LOG, key, 5, 20);
        }
        return h.close(LOG, 5L, null, 21);
    }

    @Test
    void twoLeasesEndingInOneRevisionWithAllTheirKeysPass() {
        CheckReport r = check(twoLeasesLog("lease/a/0", "lease/a/1", "lease/b/0"));
        assertEquals(0, r.count("lease"), r.details().toString());
    }

    @Test
    void twoLeasesEndingInOneRevisionLeavingAKeyIsAViolation() {
        CheckReport r = check(twoLeasesLog("lease/a/0", "lease/b/0"));
        assertEquals(1, r.count("lease"), r.details().toString());
    }

    @Test
    void aLeaseRenewedAfterAWatchSawItsExpiryIsAViolation() {
        HistoryBuilder h =
                leaseLog("lease/a/0", "lease/a/1")
                        .open("w1", "lease/", 1, 0)
                        .event(
                                Event.of("w1", Event.EVENT, "watch")
                                        .key("lease/a/0")
                                        .value("x")
                                        .eventType("put")
                                        .revision(2)
                                        .lease(10),
                                1)
                        .event(
                                Event.of("w1", Event.EVENT, "watch")
                                        .key("lease/a/1")
                                        .value("y")
                                        .eventType("put")
                                        .revision(3)
                                        .lease(10),
                                1)
                        .loggedDelete("w1", "lease/a/0", 4, 2)
                        .loggedDelete("w1", "lease/a/1", 4, 2)
                        .event(Event.of("l0", Event.INVOKE, "keepalive").lease(10), 5000)
                        .event(Event.of("l0", Event.OK, "keepalive").lease(10).ttl(5), 5001);
        CheckReport r = check(h);
        assertEquals(1, r.count("lease"), r.details().toString());
    }

    @Test
    void anExpiredLeaseThatLeftAKeyIsAViolation() {
        HistoryBuilder h =
                leaseLog()
                        .event(Event.of("final", Event.INVOKE, "ttl").lease(10), 30)
                        .event(Event.of("final", Event.OK, "ttl").lease(10).ttl(-1), 31);
        CheckReport r = check(h);
        assertEquals(2, r.count("lease"), r.details().toString());
    }

    @Test
    void aClientSeeingRevisionsGoBackIsAViolation() {
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", "reg/0", "a", 0, 1, null, 5)
                        .get("c0", "reg/0", 2, 3, "a", 5, 4);
        assertEquals(1, check(h).count("revision"));
    }
}
