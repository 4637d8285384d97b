package io.capstan.faults.check;

import io.capstan.faults.history.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a run's history: linearizability of every register key ({@code reg/...}); that no value of
 * a failed write is ever seen; against the final log (a watch of the whole keyspace from revision
 * 1, process {@code log}): that every acknowledged write is in it at the revision it was
 * acknowledged with, no write is applied twice, reads saw logged values and revisions have no
 * holes; that each watch delivered its range's events in revision order with no gap and no
 * duplicate, across its reconnects, up to the end of the log; that a lease's expiry deleted exactly
 * its attached keys ({@code lease/...}), that an expired lease was not renewed afterwards and left
 * no key; and that the revisions each client saw never went backwards.
 *
 * <p>Stateless between calls; not thread-safe within one.
 */
public final class HistoryChecker {
    /** Prefix of the keys checked as registers. */
    public static final String REGISTER_PREFIX = "reg/";

    /** Prefix of the keys attached to leases. */
    public static final String LEASE_PREFIX = "lease/";

    /** The process whose watch from revision 1 is the final log. */
    public static final String LOG = "log";

    /** A keep-alive this long after a client saw its lease's keys deleted must not renew it. */
    private static final long RENEW_SLACK_NANOS = Duration.ofSeconds(2).toNanos();

    private static final int DETAILS_PER_KIND = 5;

    private final Duration searchBudget;
    private final int maxStatesPerKey;
    private final Map<String, Integer> violations = new LinkedHashMap<>();
    private final Map<String, Integer> detailsShown = new HashMap<>();
    private final List<String> details = new ArrayList<>();
    private final List<String> inconclusive = new ArrayList<>();

    /**
     * @param searchBudget time all linearizability searches of one history may take together
     * @param maxStatesPerKey states one key's search may remember (its memory bound)
     */
    public HistoryChecker(Duration searchBudget, int maxStatesPerKey) {
        this.searchBudget = searchBudget;
        this.maxStatesPerKey = maxStatesPerKey;
    }

    /** Checks {@code events}, a whole history in file order. */
    public CheckReport check(List<Event> events) {
        violations.clear();
        detailsShown.clear();
        details.clear();
        inconclusive.clear();
        for (String kind :
                List.of(
                        "linearizability",
                        "aborted-write",
                        "lost-write",
                        "duplicate-write",
                        "log",
                        "watch",
                        "lease",
                        "revision")) {
            violations.put(kind, 0);
        }
        List<Op> ops = Ops.pair(events);
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        for (String outcome : List.of(Event.OK, Event.FAIL, Event.UNKNOWN)) {
            outcomes.put(
                    outcome, (int) ops.stream().filter(op -> op.outcome().equals(outcome)).count());
        }
        String linearizable = checkRegisters(ops);
        checkAbortedWrites(ops, events);
        checkRevisionsPerClient(ops);
        FinalLog log = FinalLog.of(events);
        if (log.complete()) {
            checkAgainstLog(ops, log);
            checkWatches(events, log);
            checkLeases(ops, events, log);
        } else {
            inconclusive.add(
                    "final log incomplete ("
                            + log.error()
                            + "): lost writes, watches and leases not checked");
        }
        return new CheckReport(
                outcomes,
                linearizable,
                Map.copyOf(violations),
                List.copyOf(details),
                List.copyOf(inconclusive));
    }

    private void violation(String kind, String detail) {
        violations.merge(kind, 1, Integer::sum);
        if (detailsShown.merge(kind, 1, Integer::sum) <= DETAILS_PER_KIND) {
            details.add(kind + ": " + detail);
        }
    }

    private String checkRegisters(List<Op> ops) {
        Map<String, List<Op>> byKey = new TreeMap<>();
        for (Op op : ops) {
            if (op.key() != null
                    && op.key().startsWith(REGISTER_PREFIX)
                    && !op.failed()
                    && Set.of("put", "get", "cas", "delete").contains(op.f())) {
                byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        long deadline = System.nanoTime() + searchBudget.toNanos();
        boolean gaveUp = false;
        boolean violated = false;
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            Linearizability.Result r =
                    new Linearizability(deadline, maxStatesPerKey).check(e.getValue());
            switch (r.outcome()) {
                case NOT_LINEARIZABLE -> {
                    violated = true;
                    violation(
                            "linearizability",
                            "key " + e.getKey() + " (" + r.ops() + " operations): " + r.detail());
                }
                case GAVE_UP -> {
                    gaveUp = true;
                    inconclusive.add(
                            "linearizability of key "
                                    + e.getKey()
                                    + " ("
                                    + r.ops()
                                    + " operations): gave up, "
                                    + r.detail());
                }
                case LINEARIZABLE -> {}
            }
        }
        return violated ? "no" : gaveUp ? "unknown" : "yes";
    }

    private void checkAbortedWrites(List<Op> ops, List<Event> events) {
        Map<String, Op> aborted = new HashMap<>();
        for (Op op : ops) {
            if (op.failed() && op.call().value() != null) {
                aborted.put(op.call().value(), op);
            }
        }
        if (aborted.isEmpty()) {
            return;
        }
        for (Op op : ops) {
            if (op.ok()) {
                for (String seen :
                        new String[] {
                            op.f().equals("get") ? op.result().value() : null, op.result().prev()
                        }) {
                    if (seen != null && aborted.containsKey(seen)) {
                        violation(
                                "aborted-write",
                                op + " saw the value of the failed " + aborted.get(seen));
                    }
                }
            }
        }
        for (Event e : events) {
            if (Event.EVENT.equals(e.type())
                    && e.value() != null
                    && aborted.containsKey(e.value())) {
                violation(
                        "aborted-write",
                        e.process()
                                + " got an event at revision "
                                + e.revision()
                                + " with the value of the failed "
                                + aborted.get(e.value()));
            }
        }
    }

    private void checkRevisionsPerClient(List<Op> ops) {
        Map<String, Op> lastSeen = new HashMap<>();
        for (Op op : ops) {
            if (!op.ok() || op.result().revision() == null || !isKv(op.f())) {
                continue;
            }
            Op before = lastSeen.put(op.process(), op);
            if (before != null && op.result().revision() < before.result().revision()) {
                violation(
                        "revision",
                        op.process()
                                + " saw revision "
                                + op.result().revision()
                                + " after "
                                + before.result().revision()
                                + ": "
                                + before
                                + " then "
                                + op);
            }
        }
    }

    private static boolean isKv(String f) {
        return Set.of("put", "get", "cas", "delete", "lease-put").contains(f);
    }

    private void checkAgainstLog(List<Op> ops, FinalLog log) {
        for (Op op : ops) {
            if (!op.ok()) {
                continue;
            }
            Event r = op.result();
            switch (op.f()) {
                case "put", "lease-put" ->
                        expectLogged(log, op, r.revision(), "put", op.call().value());
                case "cas" -> {
                    if (Boolean.TRUE.equals(r.succeeded())) {
                        expectLogged(log, op, r.revision(), "put", op.call().value());
                    }
                }
                case "delete" -> {
                    if (r.prev() != null) {
                        expectLogged(log, op, r.revision(), "delete", null);
                    }
                }
                case "get" -> {
                    if (r.value() != null) {
                        Event logged = log.at(r.modRevision(), op.key());
                        if (logged == null
                                || !"put".equals(logged.eventType())
                                || !Objects.equals(logged.value(), r.value())) {
                            violation(
                                    "log",
                                    op
                                            + " read a value with mod revision "
                                            + r.modRevision()
                                            + ", but the log has "
                                            + logged
                                            + " there");
                        }
                    }
                }
                default -> {}
            }
        }
        Map<String, Long> revisionOfValue = new HashMap<>();
        for (Event e : log.events()) {
            if (e.value() != null && "put".equals(e.eventType())) {
                Long first = revisionOfValue.putIfAbsent(e.value(), e.revision());
                if (first != null) {
                    violation(
                            "duplicate-write",
                            "value "
                                    + e.value()
                                    + " of key "
                                    + e.key()
                                    + " written at revision "
                                    + first
                                    + " and again at "
                                    + e.revision());
                }
            }
        }
        long expected = -1;
        for (long revision : log.revisions()) {
            if (expected >= 0 && revision != expected) {
                violation(
                        "log",
                        "the final log jumps from revision " + (expected - 1) + " to " + revision);
            }
            expected = revision + 1;
        }
    }

    private void expectLogged(FinalLog log, Op op, Long revision, String type, String value) {
        Event logged = revision == null ? null : log.at(revision, op.key());
        if (logged == null
                || !type.equals(logged.eventType())
                || !Objects.equals(logged.value(), value)) {
            violation(
                    "lost-write",
                    op
                            + " is not in the final log at revision "
                            + revision
                            + (logged == null
                                    ? ""
                                    : " (the log has "
                                            + logged.eventType()
                                            + " "
                                            + logged.value()
                                            + ")"));
        }
    }

    private void checkWatches(List<Event> events, FinalLog log) {
        Map<String, List<Event>> byWatcher = new LinkedHashMap<>();
        for (Event e : events) {
            if (!LOG.equals(e.process()) && "watch".equals(e.f())) {
                byWatcher.computeIfAbsent(e.process(), p -> new ArrayList<>()).add(e);
            }
        }
        byWatcher.forEach((watcher, lines) -> checkWatch(watcher, lines, log));
    }

    private void checkWatch(String watcher, List<Event> lines, FinalLog log) {
        Event first = lines.get(0);
        if (!Event.OPEN.equals(first.type())) {
            violation("watch", watcher + " has events before it opened");
            return;
        }
        String range = first.range();
        long from = first.revision();
        TreeMap<Long, Set<String>> delivered = new TreeMap<>();
        long last = from - 1;
        for (Event e : lines) {
            if (!Event.EVENT.equals(e.type())) {
                continue;
            }
            if (e.revision() < last) {
                violation(
                        "watch",
                        watcher + " got revision " + e.revision() + " after revision " + last);
            }
            last = Math.max(last, e.revision());
            if (!delivered.computeIfAbsent(e.revision(), r -> new HashSet<>()).add(describe(e))) {
                violation("watch", watcher + " got " + describe(e) + " twice");
            }
        }
        Event close = lines.get(lines.size() - 1);
        long through =
                Math.min(
                        log.end(),
                        Event.CLOSE.equals(close.type()) && close.revision() != null
                                ? close.revision()
                                : last);
        TreeMap<Long, Set<String>> expected = new TreeMap<>();
        for (Event e : log.events()) {
            if (e.key().startsWith(range) && e.revision() >= from && e.revision() <= through) {
                expected.computeIfAbsent(e.revision(), r -> new HashSet<>()).add(describe(e));
            }
        }
        for (Map.Entry<Long, Set<String>> e : expected.entrySet()) {
            Set<String> got = delivered.getOrDefault(e.getKey(), Set.of());
            if (!got.equals(e.getValue())) {
                violation(
                        "watch",
                        watcher
                                + " (range \""
                                + range
                                + "\" from "
                                + from
                                + ") at revision "
                                + e.getKey()
                                + " got "
                                + got
                                + ", the log has "
                                + e.getValue());
            }
        }
        for (Map.Entry<Long, Set<String>> e : delivered.headMap(through, true).entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                violation(
                        "watch",
                        watcher
                                + " got "
                                + e.getValue()
                                + " at revision "
                                + e.getKey()
                                + ", which the log does not have in its range");
            }
        }
        Long lastInRange = log.lastRevisionWithPrefix(range);
        if (lastInRange != null && through < lastInRange) {
            violation(
                    "watch",
                    watcher
                            + " (range \""
                            + range
                            + "\") stopped at revision "
                            + through
                            + "; the log's range goes on to "
                            + lastInRange);
        }
    }

    private static String describe(Event e) {
        return e.eventType() + " " + e.key() + (e.value() == null ? "" : "=" + e.value());
    }

    private void checkLeases(List<Op> ops, List<Event> events, FinalLog log) {
        Map<String, Long> live = new HashMap<>();
        Map<Long, Long> expiredAt = new HashMap<>();
        for (Map.Entry<Long, List<Event>> rev : log.byRevision().entrySet()) {
            Set<String> deleted = new HashSet<>();
            Set<Long> leases = new HashSet<>();
            for (Event e : rev.getValue()) {
                if (!e.key().startsWith(LEASE_PREFIX)) {
                    continue;
                }
                if ("delete".equals(e.eventType())) {
                    deleted.add(e.key());
                    leases.add(live.getOrDefault(e.key(), 0L));
                }
            }
            if (!deleted.isEmpty()) {
                // One revision may end several leases (Capstan expires every due lease in one
                // command).
                Set<String> attached = new HashSet<>();
                live.forEach(
                        (key, l) -> {
                            if (leases.contains(l)) {
                                attached.add(key);
                            }
                        });
                if (leases.contains(0L)) {
                    violation(
                            "lease",
                            "revision "
                                    + rev.getKey()
                                    + " deleted lease keys "
                                    + deleted
                                    + ", some attached to no lease, together with leases "
                                    + hex(leases));
                } else if (!attached.equals(deleted)) {
                    violation(
                            "lease",
                            "leases "
                                    + hex(leases)
                                    + " ended at revision "
                                    + rev.getKey()
                                    + " deleting "
                                    + deleted
                                    + ", but their keys were "
                                    + attached);
                }
                for (long lease : leases) {
                    expiredAt.put(lease, rev.getKey());
                }
            }
            for (Event e : rev.getValue()) {
                if (e.key().startsWith(LEASE_PREFIX)) {
                    if ("put".equals(e.eventType())) {
                        live.put(e.key(), e.lease() == null ? 0L : e.lease());
                    } else {
                        live.remove(e.key());
                    }
                }
            }
        }
        Map<Long, Long> firstSeenGone = new HashMap<>();
        for (Event e : events) {
            if (Event.EVENT.equals(e.type())
                    && !LOG.equals(e.process())
                    && "delete".equals(e.eventType())
                    && e.key().startsWith(LEASE_PREFIX)) {
                for (Map.Entry<Long, Long> x : expiredAt.entrySet()) {
                    if (x.getValue().equals(e.revision())) {
                        firstSeenGone.putIfAbsent(x.getKey(), e.time());
                    }
                }
            }
        }
        for (Op op : ops) {
            if (op.ok()
                    && op.f().equals("keepalive")
                    && op.result().ttl() != null
                    && op.result().ttl() > 0) {
                Long gone = firstSeenGone.get(op.call().lease());
                if (gone != null && op.invoke() > gone + RENEW_SLACK_NANOS) {
                    violation(
                            "lease",
                            op
                                    + " renewed lease "
                                    + Long.toHexString(op.call().lease())
                                    + " after a watch saw its expiry at revision "
                                    + expiredAt.get(op.call().lease()));
                }
            }
            if (op.ok()
                    && op.f().equals("ttl")
                    && op.result().ttl() != null
                    && op.result().ttl() < 0) {
                long lease = op.call().lease();
                live.forEach(
                        (key, l) -> {
                            if (l == lease) {
                                violation(
                                        "lease",
                                        "lease "
                                                + Long.toHexString(lease)
                                                + " is gone ("
                                                + op
                                                + ") but its key "
                                                + key
                                                + " is left");
                            }
                        });
            }
        }
    }

    private static List<String> hex(Set<Long> leases) {
        return leases.stream().map(Long::toHexString).toList();
    }
}
