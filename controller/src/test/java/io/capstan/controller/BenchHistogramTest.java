package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BenchHistogramTest {

    @Test
    void smallValuesAreExact() {
        BenchHistogram h = new BenchHistogram();
        for (long v = 1; v <= 100; v++) {
            h.record(v);
        }
        assertEquals(100, h.count());
        assertEquals(50, h.percentile(0.50));
        assertEquals(99, h.percentile(0.99));
        assertEquals(100, h.percentile(1.0));
        assertEquals(1, h.percentile(0.001));
    }

    @Test
    void percentilesStayWithinHalfABucketOfTheExactOnes() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        long[] values = new long[100_000];
        BenchHistogram h = new BenchHistogram();
        for (int i = 0; i < values.length; i++) {
            // Spread over 100 ns .. ~30 s, as latencies are.
            values[i] = (long) Math.pow(10, 2 + random.nextDouble() * 8.5);
            h.record(values[i]);
        }
        Arrays.sort(values);
        for (double fraction : new double[] {0.01, 0.25, 0.50, 0.90, 0.99, 0.999, 1.0}) {
            long exact = values[(int) Math.ceil(fraction * values.length) - 1];
            long reported = h.percentile(fraction);
            assertTrue(Math.abs(reported - exact) <= exact / 256 + 1,
                    "seed " + seed + ": p" + fraction + " exact " + exact + " reported " + reported);
        }
    }

    @Test
    void addingHistogramsEqualsRecordingEverythingInOne() {
        BenchHistogram a = new BenchHistogram();
        BenchHistogram b = new BenchHistogram();
        BenchHistogram all = new BenchHistogram();
        for (long v = 1_000; v < 2_000_000; v += 997) {
            (v % 3 == 0 ? a : b).record(v);
            all.record(v);
        }
        a.add(b);
        assertEquals(all.count(), a.count());
        for (double fraction : new double[] {0.1, 0.5, 0.99, 1.0}) {
            assertEquals(all.percentile(fraction), a.percentile(fraction), "p" + fraction);
        }
        assertTrue(b.count() > 0 && b.count() < a.count(), "the added histogram is left as it was");
    }

    @Test
    void hugeValuesAreClampedAndBadInputRefused() {
        BenchHistogram h = new BenchHistogram();
        assertThrows(IllegalStateException.class, () -> h.percentile(0.5), "nothing recorded yet");
        h.record(Long.MAX_VALUE);
        long bound = 1L << 42;
        assertTrue(Math.abs(h.percentile(1.0) - bound) <= bound / 256, "clamped to 2^42 ns: " + h.percentile(1.0));
        assertThrows(IllegalArgumentException.class, () -> h.record(-1));
        assertThrows(IllegalArgumentException.class, () -> h.percentile(0));
        assertThrows(IllegalArgumentException.class, () -> h.percentile(1.5));
        assertEquals(1, h.count());
    }
}
