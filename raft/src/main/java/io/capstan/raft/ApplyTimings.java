package io.capstan.raft;

import io.capstan.raft.proto.Command;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How long the state machine took to apply each kind of command, with a histogram per kind made up
 * front: the apply thread records, metrics read, neither locks. A log entry that does not decode,
 * or holds no command, counts as {@code invalid}.
 */
final class ApplyTimings {
    private final Map<Command.CommandCase, LatencyHistogram> byCase =
            new EnumMap<>(Command.CommandCase.class);

    ApplyTimings() {
        for (Command.CommandCase kind : Command.CommandCase.values()) {
            byCase.put(kind, new LatencyHistogram());
        }
    }

    /** Apply thread: one command of {@code kind} took {@code nanos}. */
    void record(Command.CommandCase kind, long nanos) {
        byCase.get(kind).record(nanos);
    }

    /** Any thread: the kinds applied at least once. */
    List<MemberStats.Latency> read() {
        List<MemberStats.Latency> seen = new ArrayList<>();
        byCase.forEach(
                (kind, histogram) -> {
                    if (!histogram.isEmpty()) {
                        seen.add(histogram.read(name(kind)));
                    }
                });
        return seen;
    }

    private static String name(Command.CommandCase kind) {
        return kind == Command.CommandCase.COMMAND_NOT_SET
                ? "invalid"
                : kind.name().toLowerCase(Locale.ROOT);
    }
}
