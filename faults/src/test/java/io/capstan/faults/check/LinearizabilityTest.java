package io.capstan.faults.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.faults.history.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Known-linearizable and known-violating histories of one register, among them the shapes of
 * anomalies Jepsen published: a stale read, a lost update, a read of an aborted write.
 */
@Timeout(120)
class LinearizabilityTest {
    private static final String K = "reg/0";

    private static CheckReport check(HistoryBuilder h) {
        return new HistoryChecker(Duration.ofSeconds(30), 1_000_000).check(h.events());
    }

    @Test
    void sequentialWritesAndReadsAreLinearizable() {
        HistoryBuilder h =
                new HistoryBuilder()
                        .get("c0", K, 0, 1, null)
                        .put("c0", K, "a", 2, 3, null)
                        .get("c1", K, 4, 5, "a")
                        .cas("c1", K, "a", "b", 6, 7)
                        .casFailed("c0", K, "a", "c", 8, 9, "b")
                        .delete("c0", K, 10, 11, "b")
                        .get("c1", K, 12, 13, null);
        CheckReport r = check(h);
        assertEquals("yes", r.linearizable(), r.details().toString());
        assertEquals(7, r.outcomes().get(Event.OK));
    }

    @Test
    void aReadConcurrentWithAWriteMaySeeEitherValue() {
        for (String seen : new String[] {"a", "b"}) {
            HistoryBuilder h =
                    new HistoryBuilder()
                            .put("c0", K, "a", 0, 1, null)
                            .put("c1", K, "b", 2, 10, "a")
                            .get("c2", K, 3, 4, seen)
                            .get("c2", K, 11, 12, "b");
            assertEquals("yes", check(h).linearizable(), seen);
        }
    }

    @Test
    void staleReadIsAViolation() {
        // Jepsen's etcd and Consul stale reads: a read that starts after a write completed sees the
        // older value.
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .put("c1", K, "b", 2, 3, "a")
                        .get("c2", K, 4, 5, "a");
        CheckReport r = check(h);
        assertEquals("no", r.linearizable());
        assertEquals(1, r.count("linearizability"));
        assertTrue(r.details().get(0).contains("reg/0"), r.details().toString());
    }

    @Test
    void twoReadersSeeingNewThenOldIsAViolation() {
        // Reads served by an old leader cut off by a partition: one client sees b, a later one
        // still sees a.
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .put("c1", K, "b", 2, 20, "a")
                        .get("c2", K, 3, 4, "b")
                        .get("c3", K, 5, 6, "a");
        assertEquals("no", check(h).linearizable());
    }

    @Test
    void lostUpdateIsAViolation() {
        // Two compare-and-sets from the same value both succeed: one update is lost.
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .cas("c1", K, "a", "b", 2, 6)
                        .cas("c2", K, "a", "c", 3, 7)
                        .get("c0", K, 8, 9, "c");
        assertEquals("no", check(h).linearizable());
    }

    @Test
    void readOfAnAbortedWriteIsAViolation() {
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .putEnded("c1", K, "b", 2, 3, Event.FAIL)
                        .get("c2", K, 4, 5, "b");
        CheckReport r = check(h);
        assertEquals("no", r.linearizable());
        assertEquals(1, r.count("aborted-write"), r.details().toString());
    }

    @Test
    void anUnknownWriteMayTakeEffectLateOrNever() {
        HistoryBuilder seenLate =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .putEnded("c1", K, "b", 2, 3, Event.UNKNOWN)
                        .get("c2", K, 4, 5, "a")
                        .get("c2", K, 100, 101, "b");
        assertEquals("yes", check(seenLate).linearizable());
        HistoryBuilder never =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .putEnded("c1", K, "b", 2, 3, Event.UNKNOWN)
                        .get("c2", K, 100, 101, "a");
        assertEquals("yes", check(never).linearizable());
    }

    @Test
    void anUnknownWriteSeenBeforeItWasInvokedIsAViolation() {
        HistoryBuilder h =
                new HistoryBuilder()
                        .get("c2", K, 0, 1, "b")
                        .putEnded("c1", K, "b", 2, 3, Event.UNKNOWN);
        assertEquals("no", check(h).linearizable());
    }

    @Test
    void anUnknownCompareAndSetMayApplyOnlyWhereItsCompareHolds() {
        HistoryBuilder applied =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .casUnknown("c1", K, "a", "b", 2, 3)
                        .get("c2", K, 10, 11, "b");
        assertEquals("yes", check(applied).linearizable());
        HistoryBuilder compareFailed =
                new HistoryBuilder()
                        .put("c0", K, "x", 0, 1, null)
                        .casUnknown("c1", K, "a", "b", 2, 3)
                        .get("c2", K, 10, 11, "b");
        assertEquals("no", check(compareFailed).linearizable());
    }

    /**
     * Thirty unknown deletes open from the start, then puts of v0..v29 each replacing the one
     * before.
     */
    private static HistoryBuilder putsAmongUnknownDeletes() {
        HistoryBuilder h = new HistoryBuilder();
        for (int i = 0; i < 30; i++) {
            h.deleteUnknown("d" + i, K, 0.5, 0.6);
        }
        for (int i = 0; i < 30; i++) {
            h.put("c0", K, "v" + i, 1 + 2 * i, 2 + 2 * i, i == 0 ? null : "v" + (i - 1));
        }
        return h;
    }

    private static CheckReport checkWithin(HistoryBuilder h, int maxStates) {
        return new HistoryChecker(Duration.ofSeconds(30), maxStates).check(h.events());
    }

    @Test
    void manyUnknownDeletesAreSearchedWithoutTryingEverySubset() {
        // One of the deletes must come after the last put; trying subsets of thirty would spend any
        // budget.
        HistoryBuilder h = putsAmongUnknownDeletes().get("c1", K, 100, 101, null);
        CheckReport r = checkWithin(h, 10_000);
        assertEquals("yes", r.linearizable(), r.details() + " " + r.inconclusive());
    }

    @Test
    void aStaleReadAmongManyUnknownDeletesIsStillFound() {
        HistoryBuilder h = putsAmongUnknownDeletes().get("c1", K, 100, 101, "v3");
        CheckReport r = checkWithin(h, 10_000);
        assertEquals("no", r.linearizable(), r.details() + " " + r.inconclusive());
    }

    @Test
    void aFailedReadIsDropped() {
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .getFailed("c1", K, 2, 3)
                        .get("c1", K, 4, 5, "a");
        CheckReport r = check(h);
        assertEquals("yes", r.linearizable());
        assertEquals(1, r.outcomes().get(Event.FAIL));
    }

    @Test
    void aWriteThatMissesWhatItReplacedIsAViolation() {
        // A put reports the value it replaced: two puts both replacing "a" means one was lost.
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", K, "a", 0, 1, null)
                        .put("c1", K, "b", 2, 3, "a")
                        .put("c2", K, "c", 4, 5, "a");
        assertEquals("no", check(h).linearizable());
    }

    @Test
    void keysAreCheckedApart() {
        HistoryBuilder h =
                new HistoryBuilder()
                        .put("c0", "reg/0", "a", 0, 1, null)
                        .put("c1", "reg/1", "b", 2, 3, null)
                        .get("c2", "reg/0", 4, 5, "a")
                        .get("c2", "reg/1", 6, 7, "b");
        assertEquals("yes", check(h).linearizable());
    }

    @Test
    void randomLinearizableHistoriesPassAndACorruptedReadFails() {
        for (long seed = 1; seed <= 5; seed++) {
            HistoryBuilder good = simulated(seed, false);
            CheckReport r = check(good);
            assertEquals("yes", r.linearizable(), "seed " + seed + ": " + r.details());
            HistoryBuilder bad = simulated(seed, true);
            assertEquals(good.events().size(), bad.events().size());
            assertEquals("no", check(bad).linearizable(), "seed " + seed);
        }
    }

    @Test
    void aSearchOverBudgetSaysItGaveUp() {
        HistoryBuilder h = simulated(7, false);
        CheckReport r = new HistoryChecker(Duration.ofNanos(1), 1_000_000).check(h.events());
        assertEquals("unknown", r.linearizable());
        assertFalse(r.conclusive());
        assertFalse(r.violated());
        CheckReport fewStates = new HistoryChecker(Duration.ofSeconds(30), 10).check(h.events());
        assertEquals("unknown", fewStates.linearizable());
        assertTrue(
                fewStates.inconclusive().get(0).contains("state budget"),
                fewStates.inconclusive().toString());
    }

    /**
     * A register run by 8 concurrent clients for 2,000 operations, each taking effect at a random
     * moment inside its interval; one in 20 writes ends unknown (taking effect or not). With {@code
     * corrupt}, one late read returns a value overwritten long before.
     */
    private static HistoryBuilder simulated(long seed, boolean corrupt) {
        Random random = new Random(seed);
        int clients = 8;
        double[] free = new double[clients];
        record Planned(
                int client,
                double from,
                double at,
                double to,
                String f,
                String value,
                String expect,
                boolean unknown) {}
        List<Planned> planned = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            int c = random.nextInt(clients);
            double from = free[c] + random.nextDouble() * 2;
            double to = from + 0.1 + random.nextDouble() * 5;
            free[c] = to;
            double at = from + (to - from) * random.nextDouble();
            int kind = random.nextInt(10);
            String f = kind < 4 ? "get" : kind < 7 ? "put" : kind < 9 ? "cas" : "delete";
            boolean unknown = !f.equals("get") && random.nextInt(20) == 0;
            planned.add(new Planned(c, from, at, to, f, "v" + i, null, unknown));
        }
        planned.sort(java.util.Comparator.comparingDouble(Planned::at));
        String state = null;
        String stale = null;
        HistoryBuilder h = new HistoryBuilder();
        int n = 0;
        for (Planned p : planned) {
            String c = "c" + p.client;
            n++;
            boolean applies = !p.unknown || random.nextBoolean();
            switch (p.f) {
                case "get" -> {
                    String read = state;
                    if (corrupt && n > 1500 && stale != null && !stale.equals(state)) {
                        read = stale;
                        corrupt = false;
                    }
                    h.get(c, K, p.from, p.to, read);
                }
                case "put" -> {
                    if (p.unknown) {
                        h.putEnded(c, K, p.value, p.from, p.to, Event.UNKNOWN);
                    } else {
                        h.put(c, K, p.value, p.from, p.to, state);
                    }
                    if (applies) {
                        state = p.value;
                    }
                }
                case "cas" -> {
                    String expect =
                            random.nextBoolean() && state != null
                                    ? state
                                    : "v" + random.nextInt(2000);
                    if (p.unknown) {
                        h.casUnknown(c, K, expect, p.value, p.from, p.to);
                    } else if (expect.equals(state)) {
                        h.cas(c, K, expect, p.value, p.from, p.to);
                    } else {
                        h.casFailed(c, K, expect, p.value, p.from, p.to, state);
                    }
                    if (applies && expect.equals(state)) {
                        state = p.value;
                    }
                }
                default -> {
                    if (!p.unknown) {
                        h.delete(c, K, p.from, p.to, state);
                        state = null;
                    }
                }
            }
            if (n <= 100 && state != null) {
                stale = state;
            }
        }
        return h;
    }
}
