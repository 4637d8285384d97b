package io.capstan.raft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The versions of one key, newest first, as an immutable linked list.
 *
 * <p>Writers never change a history: {@link #push} and {@link #compact} return a new one that
 * shares the older nodes, so a reader holding any history sees a fixed list. Adding a version costs
 * O(1); reading the latest version costs O(1); reading an older one walks back. Invariant: {@code
 * modRevision} strictly decreases from the head.
 */
final class KeyHistory {
    private final KeyRevision head;
    private final KeyHistory older;

    private KeyHistory(KeyRevision head, KeyHistory older) {
        this.head = head;
        this.older = older;
    }

    static KeyHistory of(KeyRevision first) {
        return new KeyHistory(first, null);
    }

    KeyRevision latest() {
        return head;
    }

    /** The version in force at {@code revision}, or null when the key had not been written yet. */
    KeyRevision at(long revision) {
        for (KeyHistory h = this; h != null; h = h.older) {
            if (h.head.modRevision() <= revision) {
                return h.head;
            }
        }
        return null;
    }

    /**
     * Visits, newest first, each version written at a revision in {@code from..to}, with the
     * version before it ({@code prior}: null when compaction dropped it or the key had none).
     */
    void forEachBetween(long from, long to, BiConsumer<KeyRevision, KeyRevision> visitor) {
        for (KeyHistory h = this; h != null; h = h.older) {
            long revision = h.head.modRevision();
            if (revision < from) {
                return;
            }
            if (revision <= to) {
                visitor.accept(h.head, h.older == null ? null : h.older.head);
            }
        }
    }

    /**
     * Adds {@code next} as the newest version. A second write at the head's revision (two writes to
     * one key in one transaction) replaces the head, keeping the invariant.
     */
    KeyHistory push(KeyRevision next) {
        if (next.modRevision() == head.modRevision()) {
            return new KeyHistory(next, older);
        }
        if (next.modRevision() < head.modRevision()) {
            throw new IllegalArgumentException(
                    "revision " + next.modRevision() + " is older than " + head.modRevision());
        }
        return new KeyHistory(next, this);
    }

    /**
     * Drops what no read at or after {@code revision} can see: every version older than the one in
     * force at {@code revision}, and that one too when it is a tombstone.
     *
     * @return the trimmed history, or null when nothing is left
     */
    KeyHistory compact(long revision) {
        List<KeyRevision> kept = new ArrayList<>();
        for (KeyHistory h = this; h != null; h = h.older) {
            kept.add(h.head);
            if (h.head.modRevision() <= revision) {
                if (h.head.isTombstone()) {
                    kept.remove(kept.size() - 1);
                }
                break;
            }
        }
        if (kept.size() == size()) {
            return this;
        }
        KeyHistory rebuilt = null;
        for (int i = kept.size() - 1; i >= 0; i--) {
            rebuilt = new KeyHistory(kept.get(i), rebuilt);
        }
        return rebuilt;
    }

    int size() {
        int n = 0;
        for (KeyHistory h = this; h != null; h = h.older) {
            n++;
        }
        return n;
    }

    List<KeyRevision> oldestFirst() {
        List<KeyRevision> all = new ArrayList<>();
        for (KeyHistory h = this; h != null; h = h.older) {
            all.add(h.head);
        }
        Collections.reverse(all);
        return all;
    }

    /** Builds a history from versions listed oldest first, as a snapshot stores them. */
    static KeyHistory fromOldestFirst(List<KeyRevision> versions) {
        if (versions.isEmpty()) {
            throw new IllegalArgumentException("a key history needs at least one version");
        }
        KeyHistory h = of(versions.get(0));
        for (int i = 1; i < versions.size(); i++) {
            h = h.push(versions.get(i));
        }
        return h;
    }
}
