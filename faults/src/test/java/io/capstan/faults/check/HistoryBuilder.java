package io.capstan.faults.check;

import io.capstan.faults.history.Event;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Writes histories for tests: operations with their times in milliseconds, completions as given.
 */
final class HistoryBuilder {
    private final List<Event> events = new ArrayList<>();

    private static long ns(double millis) {
        return (long) (millis * 1_000_000);
    }

    private void invoke(Event.Builder call, double at) {
        events.add(call.at(ns(at)).build());
    }

    private void complete(Event.Builder result, double at) {
        events.add(result.at(ns(at)).build());
    }

    HistoryBuilder put(
            String p,
            String key,
            String value,
            double from,
            double to,
            String prev,
            long revision) {
        invoke(Event.of(p, Event.INVOKE, "put").key(key).value(value), from);
        complete(
                Event.of(p, Event.OK, "put").key(key).value(value).prev(prev).revision(revision),
                to);
        return this;
    }

    HistoryBuilder put(String p, String key, String value, double from, double to, String prev) {
        return put(p, key, value, from, to, prev, 0);
    }

    /** A put that ended {@code outcome} (fail or unknown). */
    HistoryBuilder putEnded(
            String p, String key, String value, double from, double to, String outcome) {
        invoke(Event.of(p, Event.INVOKE, "put").key(key).value(value), from);
        complete(Event.of(p, outcome, "put").key(key).value(value).error("test"), to);
        return this;
    }

    HistoryBuilder get(String p, String key, double from, double to, String value) {
        return get(p, key, from, to, value, 0, 0);
    }

    HistoryBuilder get(
            String p,
            String key,
            double from,
            double to,
            String value,
            long modRevision,
            long revision) {
        invoke(Event.of(p, Event.INVOKE, "get").key(key), from);
        Event.Builder ok = Event.of(p, Event.OK, "get").key(key).value(value).revision(revision);
        if (value != null) {
            ok.modRevision(modRevision);
        }
        complete(ok, to);
        return this;
    }

    HistoryBuilder getFailed(String p, String key, double from, double to) {
        invoke(Event.of(p, Event.INVOKE, "get").key(key), from);
        complete(Event.of(p, Event.FAIL, "get").key(key).error("test"), to);
        return this;
    }

    /** A cas that succeeded. */
    HistoryBuilder cas(String p, String key, String expect, String value, double from, double to) {
        return cas(p, key, expect, value, from, to, true, expect);
    }

    /** A cas that found {@code prev} (null: no key) instead of {@code expect}. */
    HistoryBuilder casFailed(
            String p,
            String key,
            String expect,
            String value,
            double from,
            double to,
            String prev) {
        return cas(p, key, expect, value, from, to, false, prev);
    }

    private HistoryBuilder cas(
            String p,
            String key,
            String expect,
            String value,
            double from,
            double to,
            boolean succeeded,
            String prev) {
        invoke(Event.of(p, Event.INVOKE, "cas").key(key).expect(expect).value(value), from);
        complete(
                Event.of(p, Event.OK, "cas")
                        .key(key)
                        .expect(expect)
                        .value(value)
                        .succeeded(succeeded)
                        .prev(succeeded ? expect : prev),
                to);
        return this;
    }

    HistoryBuilder casUnknown(
            String p, String key, String expect, String value, double from, double to) {
        invoke(Event.of(p, Event.INVOKE, "cas").key(key).expect(expect).value(value), from);
        complete(
                Event.of(p, Event.UNKNOWN, "cas")
                        .key(key)
                        .expect(expect)
                        .value(value)
                        .error("test"),
                to);
        return this;
    }

    HistoryBuilder delete(String p, String key, double from, double to, String prev) {
        invoke(Event.of(p, Event.INVOKE, "delete").key(key), from);
        complete(Event.of(p, Event.OK, "delete").key(key).prev(prev), to);
        return this;
    }

    /**
     * A delete that timed out or lost its connection: it may have happened, at any time after
     * {@code from}.
     */
    HistoryBuilder deleteUnknown(String p, String key, double from, double to) {
        invoke(Event.of(p, Event.INVOKE, "delete").key(key), from);
        complete(Event.of(p, Event.UNKNOWN, "delete").key(key).error("test"), to);
        return this;
    }

    /** Any raw event, e.g. watch and log lines. */
    HistoryBuilder event(Event.Builder e, double at) {
        events.add(e.at(ns(at)).build());
        return this;
    }

    /** A put event of the final log (or of a watcher). */
    HistoryBuilder logged(String p, String key, String value, long revision, double at) {
        return event(
                Event.of(p, Event.EVENT, "watch")
                        .key(key)
                        .value(value)
                        .eventType("put")
                        .revision(revision),
                at);
    }

    HistoryBuilder loggedDelete(String p, String key, long revision, double at) {
        return event(
                Event.of(p, Event.EVENT, "watch").key(key).eventType("delete").revision(revision),
                at);
    }

    HistoryBuilder open(String p, String range, long from, double at) {
        return event(Event.of(p, Event.OPEN, "watch").range(range).revision(from), at);
    }

    HistoryBuilder close(String p, Long through, String error, double at) {
        Event.Builder b = Event.of(p, Event.CLOSE, "watch").error(error);
        if (through != null) {
            b.revision(through);
        }
        return event(b, at);
    }

    List<Event> events() {
        List<Event> sorted = new ArrayList<>(events);
        sorted.sort(Comparator.comparingLong(Event::time));
        return sorted;
    }
}
