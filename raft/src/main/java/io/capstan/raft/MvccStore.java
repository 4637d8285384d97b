package io.capstan.raft;

import com.google.protobuf.ByteString;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The MVCC keyspace and the lease table of one replica.
 *
 * <p><b>Threading.</b> One thread, the apply thread, calls every method documented as a write;
 * any number of threads call the reads at the same time, without locks. Each key maps to an
 * immutable {@link KeyHistory} that the writer replaces, never edits. The writer first adds the
 * versions of revision {@code R+1} and only then publishes {@code R+1} through the volatile
 * {@link #revision()}; a reader fixes its revision once and ignores newer versions, so it sees
 * every transaction whole or not at all. Compaction publishes the new compact revision before it
 * trims histories, and a reader re-checks it after reading ({@link #checkReadable}), so a read
 * that raced a compaction fails with COMPACTED rather than return a partial answer.
 *
 * <p>Lease state is not versioned: granting, revoking and attaching are visible to readers as
 * soon as the writer makes them. {@link #readStable} gives a reader a view of the whole store
 * between two commands (a sequence lock the writer never waits on).
 */
final class MvccStore {
    static final Comparator<ByteString> KEY_ORDER = ByteString.unsignedLexicographicalComparator();

    /** As a range end, "\0" means "every key from the start key on". */
    static final ByteString FROM_KEY = ByteString.copyFrom(new byte[] {0});

    /**
     * The revision of a store nothing was ever written to. As in etcd it is 1, so the first write
     * gets revision 2 and a read at revision 1 sees the empty keyspace.
     */
    static final long EMPTY_REVISION = 1;

    private static final Duration STABLE_READ_LIMIT = Duration.ofSeconds(5);

    private final ConcurrentSkipListMap<ByteString, KeyHistory> index =
            new ConcurrentSkipListMap<>(KEY_ORDER);
    private final ConcurrentSkipListMap<Long, Lease> leases = new ConcurrentSkipListMap<>();
    private volatile long revision = EMPTY_REVISION;
    private volatile long compactRevision;

    /** Odd while the writer is inside a command. */
    private final AtomicLong writeSequence = new AtomicLong();

    /** Visits one live key; returns false to stop the scan. */
    @FunctionalInterface
    interface KeyVisitor {
        boolean visit(ByteString key, KeyRevision version);
    }

    // ---- reads: any thread ----

    /** The latest published revision; {@link #EMPTY_REVISION} for a store never written to. */
    long revision() {
        return revision;
    }

    /** Reads below this revision fail with COMPACTED; 0 until the first compaction. */
    long compactRevision() {
        return compactRevision;
    }

    /**
     * Resolves the revision a read asked for ({@code <= 0}: the latest).
     *
     * @throws KeyspaceException FUTURE_REVISION or COMPACTED
     */
    long readableRevision(long requested) {
        long current = revision;
        if (requested <= 0) {
            return current;
        }
        if (requested > current) {
            throw KeyspaceException.futureRevision(requested, current);
        }
        checkReadable(requested);
        return requested;
    }

    /** @throws KeyspaceException COMPACTED when {@code revision} is below the compact revision */
    void checkReadable(long revision) {
        long compacted = compactRevision;
        if (revision < compacted) {
            throw KeyspaceException.compacted(revision, compacted);
        }
    }

    /** The live version of {@code key} at {@code revision}, or null. */
    KeyRevision get(ByteString key, long revision) {
        KeyHistory history = index.get(key);
        KeyRevision version = history == null ? null : history.at(revision);
        return version == null || version.isTombstone() ? null : version;
    }

    /**
     * Visits, in key order, the keys live at {@code revision} in the range given by etcd's
     * (key, range_end) convention: empty end is the single key, "\0" is every key from
     * {@code key} on, otherwise the half-open range [key, end).
     */
    void scan(ByteString key, ByteString end, long revision, KeyVisitor visitor) {
        if (end.isEmpty()) {
            KeyRevision version = get(key, revision);
            if (version != null) {
                visitor.visit(key, version);
            }
            return;
        }
        for (Map.Entry<ByteString, KeyHistory> e : slice(key, end).entrySet()) {
            KeyRevision version = e.getValue().at(revision);
            if (version != null && !version.isTombstone() && !visitor.visit(e.getKey(), version)) {
                return;
            }
        }
    }

    private NavigableMap<ByteString, KeyHistory> slice(ByteString key, ByteString end) {
        if (end.equals(FROM_KEY)) {
            return index.tailMap(key, true);
        }
        if (KEY_ORDER.compare(key, end) >= 0) {
            return new ConcurrentSkipListMap<>(KEY_ORDER);
        }
        return index.subMap(key, true, end, false);
    }

    /**
     * Visits, in key order, every key in the range (etcd's convention, as in {@link #scan}) with its
     * whole history, tombstones included. A history may hold versions newer than the published
     * revision; the caller filters by revision.
     */
    void scanHistories(ByteString key, ByteString end, BiConsumer<ByteString, KeyHistory> visitor) {
        if (end.isEmpty()) {
            KeyHistory history = index.get(key);
            if (history != null) {
                visitor.accept(key, history);
            }
            return;
        }
        slice(key, end).forEach(visitor);
    }

    static boolean inRange(ByteString candidate, ByteString key, ByteString end) {
        if (end.isEmpty()) {
            return candidate.equals(key);
        }
        if (KEY_ORDER.compare(candidate, key) < 0) {
            return false;
        }
        return end.equals(FROM_KEY) || KEY_ORDER.compare(candidate, end) < 0;
    }

    Lease lease(long id) {
        return leases.get(id);
    }

    /** Lease ids in ascending order. */
    List<Long> leaseIds() {
        return List.copyOf(leases.keySet());
    }

    /**
     * Runs {@code read} until it completes without a command being applied meanwhile. Between
     * attempts it yields, so a writer that was descheduled inside a command gets to finish it; it
     * gives up only when the store kept changing for {@link #STABLE_READ_LIMIT}.
     */
    <T> T readStable(Supplier<T> read) {
        long deadline = System.nanoTime() + STABLE_READ_LIMIT.toNanos();
        do {
            long before = writeSequence.get();
            if ((before & 1) == 0) {
                T result = read.get();
                if (writeSequence.get() == before) {
                    return result;
                }
            }
            Thread.yield();
        } while (System.nanoTime() - deadline < 0);
        throw new IllegalStateException(
                "the store kept changing for " + STABLE_READ_LIMIT + " while reading it whole");
    }

    /**
     * A SHA-256 over revision, compact revision, every key's history and every lease, in a fixed
     * order: two replicas that applied the same commands from the same start have the same digest.
     * Run it inside {@link #readStable} for an exact answer while commands are being applied.
     */
    String digestNow() {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.writeLong(revision);
            out.writeLong(compactRevision);
            for (Map.Entry<ByteString, KeyHistory> e : index.entrySet()) {
                out.writeInt(e.getKey().size());
                e.getKey().writeTo(out);
                for (KeyRevision v : e.getValue().oldestFirst()) {
                    out.writeLong(v.modRevision());
                    out.writeLong(v.createRevision());
                    out.writeLong(v.version());
                    out.writeLong(v.lease());
                    out.writeInt(v.value().size());
                    v.value().writeTo(out);
                }
                out.flush();
                sha.update(buffer.toByteArray());
                buffer.reset();
            }
            for (Lease lease : leases.values()) {
                out.writeLong(lease.id());
                out.writeLong(lease.ttlSeconds());
            }
            out.flush();
            sha.update(buffer.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    // ---- writes: the apply thread only ----

    /** Write: marks the start of one command. */
    void beginCommand() {
        writeSequence.incrementAndGet();
    }

    /** Write: marks the end of the command begun by {@link #beginCommand()}. */
    void endCommand() {
        writeSequence.incrementAndGet();
    }

    /** Write: records {@code version} of {@code key}; invisible until its revision is published. */
    void writeVersion(ByteString key, KeyRevision version) {
        KeyHistory history = index.get(key);
        index.put(key, history == null ? KeyHistory.of(version) : history.push(version));
    }

    /** Write: makes {@code newRevision} and everything written at it visible to readers. */
    void publish(long newRevision) {
        if (newRevision < revision) {
            throw new IllegalArgumentException(
                    "revision cannot go back from " + revision + " to " + newRevision);
        }
        revision = newRevision;
    }

    /** Write: forgets history that no read at or after {@code target} can see. */
    void compact(long target) {
        compactRevision = target;
        for (Map.Entry<ByteString, KeyHistory> e : index.entrySet()) {
            KeyHistory trimmed = e.getValue().compact(target);
            if (trimmed == null) {
                index.remove(e.getKey());
            } else if (trimmed != e.getValue()) {
                index.put(e.getKey(), trimmed);
            }
        }
    }

    /** Write: adds a lease; its id must be free. */
    void addLease(Lease lease) {
        if (leases.putIfAbsent(lease.id(), lease) != null) {
            throw new IllegalArgumentException("lease " + lease.id() + " already exists");
        }
    }

    /** Write: removes a lease (its keys are the caller's to delete). */
    void removeLease(long id) {
        leases.remove(id);
    }

    // ---- snapshots: the apply thread, or a store no other thread sees yet ----

    /** Visits every key with its whole history, in key order. */
    void forEachHistory(BiConsumer<ByteString, KeyHistory> visitor) {
        index.forEach(visitor);
    }

    int keyCount() {
        return index.size();
    }

    Iterable<Lease> leases() {
        return leases.values();
    }

    int leaseCount() {
        return leases.size();
    }

    /** Restores a history read from a snapshot; the key's attached lease is re-linked. */
    void restoreHistory(ByteString key, KeyHistory history) {
        index.put(key, history);
        KeyRevision latest = history.latest();
        if (!latest.isTombstone() && latest.lease() != 0) {
            Lease lease = leases.get(latest.lease());
            if (lease != null) {
                lease.attach(key);
            }
        }
    }

    void restoreRevisions(long revision, long compactRevision) {
        this.revision = revision;
        this.compactRevision = compactRevision;
    }
}
