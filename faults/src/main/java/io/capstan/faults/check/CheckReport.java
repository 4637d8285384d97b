package io.capstan.faults.check;

import java.util.List;
import java.util.Map;

/**
 * What the checker found in one history.
 *
 * @param outcomes client operations by outcome: {@code ok}, {@code fail}, {@code unknown}
 * @param linearizable {@code yes}, {@code no}, or {@code unknown} when a key's search gave up
 * @param violations counts by kind: {@code linearizability}, {@code aborted-write}, {@code
 *     lost-write}, {@code duplicate-write}, {@code log}, {@code watch}, {@code lease}, {@code
 *     revision}
 * @param details one line (or a few) per violation, the first ones of each kind
 * @param inconclusive what could not be checked and why (a search that gave up, a final log that is
 *     missing); empty when everything was checked
 */
public record CheckReport(
        Map<String, Integer> outcomes,
        String linearizable,
        Map<String, Integer> violations,
        List<String> details,
        List<String> inconclusive) {

    /** Whether any violation was found. */
    public boolean violated() {
        return violations.values().stream().anyMatch(n -> n > 0);
    }

    /** Whether every check ran to the end. */
    public boolean conclusive() {
        return inconclusive.isEmpty();
    }

    /** The count of one kind of violation. */
    public int count(String kind) {
        return violations.getOrDefault(kind, 0);
    }
}
