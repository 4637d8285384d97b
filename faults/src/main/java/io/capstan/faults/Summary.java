package io.capstan.faults;

import io.capstan.faults.check.CheckReport;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/** The summary a run prints: what was injected, what the clients saw, what the checker found. */
final class Summary {
    private Summary() {}

    static String format(
            FaultRun.Settings s,
            Map<String, Integer> injected,
            CheckReport r,
            String ending,
            int code,
            Path dir) {
        StringBuilder b = new StringBuilder();
        b.append("fault run: target ")
                .append(s.target())
                .append(", ")
                .append(s.members())
                .append(" members, seed ")
                .append(s.seed())
                .append(", ")
                .append(s.length().toSeconds())
                .append(" s\n");
        b.append("faults injected: ").append(counts(injected)).append('\n');
        b.append("operations: ok ")
                .append(r.outcomes().get("ok"))
                .append(", failed ")
                .append(r.outcomes().get("fail"))
                .append(", unknown ")
                .append(r.outcomes().get("unknown"))
                .append('\n');
        b.append("recovered after healing: ")
                .append(ending == null ? "yes" : "no: " + ending)
                .append('\n');
        b.append("linearizable: ").append(r.linearizable()).append('\n');
        b.append("lost writes: ").append(r.count("lost-write")).append('\n');
        b.append("watch gaps: ").append(r.count("watch")).append('\n');
        b.append("violations: ")
                .append(
                        counts(
                                r.violations().entrySet().stream()
                                        .filter(e -> e.getValue() > 0)
                                        .collect(
                                                Collectors.toMap(
                                                        Map.Entry::getKey, Map.Entry::getValue))))
                .append('\n');
        r.details().forEach(d -> b.append("  ").append(d.replace("\n", "\n  ")).append('\n'));
        r.inconclusive().forEach(d -> b.append("not checked: ").append(d).append('\n'));
        String result =
                switch (code) {
                    case FaultRun.PASS -> "PASS";
                    case FaultRun.INCONCLUSIVE -> "INCONCLUSIVE";
                    default -> "FAIL";
                };
        b.append("result: ").append(result).append(" (seed ").append(s.seed()).append(")\n");
        b.append("history: ")
                .append(dir.resolve("history.jsonl"))
                .append(", faults: ")
                .append(dir.resolve("faults.jsonl"))
                .append(", member logs: ")
                .append(dir.resolve("n*/member.log"))
                .append('\n');
        return b.toString();
    }

    private static String counts(Map<String, Integer> counts) {
        return counts.isEmpty()
                ? "none"
                : counts.entrySet().stream()
                        .sorted(Map.Entry.comparingByKey())
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining(" "));
    }
}
