package io.capstan.faults.check;

import io.capstan.faults.history.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The final log: every event of the whole keyspace from revision 1 to the head, as the harness's
 * last watch ({@link HistoryChecker#LOG}) received them after the cluster recovered. It is complete
 * when that watch closed without an error.
 */
final class FinalLog {
    private final List<Event> events;
    private final Map<Long, Map<String, Event>> index = new HashMap<>();
    private final TreeMap<Long, List<Event>> byRevision = new TreeMap<>();
    private final String error;
    private final long end;

    private FinalLog(List<Event> events, String error, long end) {
        this.events = events;
        this.error = error;
        this.end = end;
        for (Event e : events) {
            index.computeIfAbsent(e.revision(), r -> new HashMap<>()).put(e.key(), e);
            byRevision.computeIfAbsent(e.revision(), r -> new ArrayList<>()).add(e);
        }
    }

    static FinalLog of(List<Event> history) {
        List<Event> events = new ArrayList<>();
        String error = "the harness never opened it";
        long end = 0;
        for (Event e : history) {
            if (!HistoryChecker.LOG.equals(e.process())) {
                continue;
            }
            switch (e.type()) {
                case Event.OPEN -> error = "it never closed";
                case Event.EVENT -> events.add(e);
                case Event.CLOSE -> {
                    error = e.error();
                    end = e.revision() == null ? 0 : e.revision();
                }
                default -> {}
            }
        }
        return new FinalLog(List.copyOf(events), error, end);
    }

    boolean complete() {
        return error == null;
    }

    String error() {
        return error;
    }

    /** The last revision the log covers (the head when it was read). */
    long end() {
        return end;
    }

    List<Event> events() {
        return events;
    }

    /** The event of {@code key} at {@code revision}, or null. */
    Event at(long revision, String key) {
        Map<String, Event> atRevision = index.get(revision);
        return atRevision == null ? null : atRevision.get(key);
    }

    SortedSet<Long> revisions() {
        return new TreeSet<>(byRevision.keySet());
    }

    TreeMap<Long, List<Event>> byRevision() {
        return byRevision;
    }

    /** The last revision with an event of a key under {@code prefix}, or null. */
    Long lastRevisionWithPrefix(String prefix) {
        for (Long revision : byRevision.descendingKeySet()) {
            for (Event e : byRevision.get(revision)) {
                if (e.key().startsWith(prefix)) {
                    return revision;
                }
            }
        }
        return null;
    }
}
