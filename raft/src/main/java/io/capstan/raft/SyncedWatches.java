package io.capstan.raft;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The hub's synced watches (those given every revision up to the last one dispatched), indexed so a
 * revision finds the watches it concerns: single-key watches by their key, range watches in one set
 * checked change by change. Keeps {@link Watcher#synced} true exactly while a watch is here.
 *
 * <p>Owned by the hub thread (see {@link WatchHub}); not thread-safe.
 */
final class SyncedWatches {
    private final Map<ByteString, Set<Watcher>> byKey = new HashMap<>();
    private final Set<Watcher> ranges = new LinkedHashSet<>();

    void add(Watcher watcher) {
        watcher.synced = true;
        watcher.wasSynced = true;
        if (watcher.singleKey()) {
            byKey.computeIfAbsent(watcher.spec.key(), k -> new LinkedHashSet<>()).add(watcher);
        } else {
            ranges.add(watcher);
        }
    }

    void remove(Watcher watcher) {
        if (watcher.singleKey()) {
            Set<Watcher> same = byKey.get(watcher.spec.key());
            if (same != null) {
                same.remove(watcher);
                if (same.isEmpty()) {
                    byKey.remove(watcher.spec.key());
                }
            }
        } else {
            ranges.remove(watcher);
        }
        watcher.synced = false;
    }

    /** Removes every watch (none is synced any more) and returns them. */
    List<Watcher> removeAll() {
        List<Watcher> all = new ArrayList<>(ranges);
        byKey.values().forEach(all::addAll);
        ranges.clear();
        byKey.clear();
        all.forEach(watcher -> watcher.synced = false);
        return all;
    }

    /**
     * The events of revision {@code applied} that each synced watch reports, in the order the
     * revision made its changes; watches it does not concern are absent.
     */
    Map<Watcher, List<WatchEvent>> eventsOf(Handoff.Applied applied) {
        if (byKey.isEmpty() && ranges.isEmpty()) {
            return Map.of();
        }
        Map<Watcher, List<WatchEvent>> batches = new LinkedHashMap<>();
        // The apply thread lists a revision's changes in the order it made them.
        for (Change change : applied.changes()) {
            Converted converted = new Converted(change);
            for (Watcher watcher : byKey.getOrDefault(change.key(), Set.of())) {
                collect(batches, watcher, converted, applied.revision());
            }
            for (Watcher watcher : ranges) {
                if (watcher.spec.covers(change.key())) {
                    collect(batches, watcher, converted, applied.revision());
                }
            }
        }
        return batches;
    }

    private static void collect(
            Map<Watcher, List<WatchEvent>> batches,
            Watcher watcher,
            Converted converted,
            long revision) {
        if (revision >= watcher.startRevision() && watcher.spec.reports(converted.change.type())) {
            batches.computeIfAbsent(watcher, w -> new ArrayList<>())
                    .add(converted.event(watcher.spec.prevKv()));
        }
    }

    /** One change's events, built once however many watches report it. */
    private static final class Converted {
        private final Change change;
        private WatchEvent withPrior;
        private WatchEvent withoutPrior;

        Converted(Change change) {
            this.change = change;
        }

        WatchEvent event(boolean prior) {
            if (prior) {
                if (withPrior == null) {
                    withPrior = change.toEvent(true);
                }
                return withPrior;
            }
            if (withoutPrior == null) {
                withoutPrior = change.toEvent(false);
            }
            return withoutPrior;
        }
    }
}
