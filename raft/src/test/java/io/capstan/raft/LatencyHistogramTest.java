package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.Command;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class LatencyHistogramTest {

    @Test
    void eachDurationLandsInTheFirstBucketWhoseBoundHoldsIt() {
        LatencyHistogram histogram = new LatencyHistogram();
        assertTrue(histogram.isEmpty());
        histogram.record(10_000); // 10 µs: first bucket (<= 50 µs)
        histogram.record(50_000); // exactly on the first bound
        histogram.record(50_001); // just above it: second bucket
        histogram.record(3_000_000); // 3 ms: the 5 ms bucket
        histogram.record(5_000_000_000L); // 5 s: beyond every bound

        MemberStats.Latency read = histogram.read("put");
        List<Double> bounds = read.upperBounds();
        List<Long> counts = read.counts();
        assertEquals("put", read.name());
        assertEquals(Double.POSITIVE_INFINITY, bounds.get(bounds.size() - 1));
        assertEquals(2, counts.get(0));
        assertEquals(1, counts.get(1));
        assertEquals(1, counts.get(bounds.indexOf(0.005)));
        assertEquals(1, counts.get(counts.size() - 1));
        assertEquals(5, read.count());
        assertEquals(5.003110001, read.sumSeconds(), 1e-9);
    }

    @Test
    void applyTimingsReportOnlyTheKindsSeen() {
        ApplyTimings timings = new ApplyTimings();
        assertEquals(List.of(), timings.read());
        timings.record(Command.CommandCase.PUT, 1_000);
        timings.record(Command.CommandCase.PUT, 2_000);
        timings.record(Command.CommandCase.COMMAND_NOT_SET, 1_000);
        List<MemberStats.Latency> read = timings.read();
        assertEquals(
                List.of("put", "invalid"), read.stream().map(MemberStats.Latency::name).toList());
        assertEquals(2, read.get(0).count());
    }
}
