package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.AlarmMember;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.MemberRecord;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * The MVCC keyspace and the lease table of one replica.
 *
 * <p><b>Threading.</b> One thread, the apply thread, calls every method documented as a write; any
 * number of threads call the reads at the same time, without locks. Each key maps to an immutable
 * {@link KeyHistory} that the writer replaces, never edits. The writer first adds the versions of
 * revision {@code R+1} and only then publishes {@code R+1} through the volatile {@link
 * #revision()}; a reader fixes its revision once and ignores newer versions, so it sees every
 * transaction whole or not at all. Compaction publishes the new compact revision before it trims
 * histories, and a reader re-checks it after reading ({@link #checkReadable}), so a read that raced
 * a compaction fails with COMPACTED rather than return a partial answer.
 *
 * <p>Lease state, member records and artifact records are not versioned: granting, revoking,
 * attaching and recording a member or an artifact are visible to readers as soon as the writer
 * makes them (records are immutable messages, replaced whole). {@link #readStable} gives a reader a
 * view of the whole store between two commands (a sequence lock the writer never waits on).
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

    /**
     * The compact revision of a store never compacted. As in etcd it is -1, so a first compaction
     * at revision 0 succeeds (and changes nothing) and a second one is refused as compacted.
     */
    static final long NOT_COMPACTED = -1;

    private static final Duration STABLE_READ_LIMIT = Duration.ofSeconds(5);

    private final ConcurrentSkipListMap<ByteString, KeyHistory> index =
            new ConcurrentSkipListMap<>(KEY_ORDER);
    private final ConcurrentSkipListMap<Long, Lease> leases = new ConcurrentSkipListMap<>();

    /** By id (unsigned order); immutable, replaced whole by the writer, so readers may keep it. */
    private volatile List<MemberRecord> members = List.of();

    /**
     * Ids of members removed from the cluster, ascending, immutable; replaced whole by the writer.
     * A record with one of them is never put again: a removed member's own publish, applied after
     * its removal, would otherwise bring its record back.
     */
    private volatile List<Long> removedMembers = List.of();

    private final ConcurrentSkipListMap<String, ArtifactRecord> artifacts =
            new ConcurrentSkipListMap<>();
    private volatile long revision = EMPTY_REVISION;
    private volatile long compactRevision = NOT_COMPACTED;

    /** Replaced whole by the writer; see {@link AuthState}. */
    private volatile AuthState auth = AuthState.INITIAL;

    /** Raised alarms, immutable, by member id then type; replaced whole by the writer. */
    private volatile List<AlarmMember> alarms = List.of();

    /** Odd while the writer is inside a command. */
    private final AtomicLong writeSequence = new AtomicLong();

    // Live keys and their key + value bytes (metrics): the writer writes them, anyone reads.
    private volatile long liveKeys;
    private volatile long liveBytes;

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

    /**
     * Reads below this revision fail with COMPACTED; {@link #NOT_COMPACTED} until the first
     * compaction.
     */
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

    /**
     * @throws KeyspaceException COMPACTED when {@code revision} is below the compact revision
     */
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
     * Visits, in key order, the keys live at {@code revision} in the range given by etcd's (key,
     * range_end) convention: empty end is the single key, "\0" is every key from {@code key} on,
     * otherwise the half-open range [key, end).
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
     * Visits, in key order, every key in the range (etcd's convention, as in {@link #scan}) with
     * its whole history, tombstones included. A history may hold versions newer than the published
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
     * Member records by id (ids compare as unsigned, as etcd prints them): an immutable list, the
     * same one until a member record changes.
     */
    List<MemberRecord> members() {
        return members;
    }

    MemberRecord member(long id) {
        return members.stream().filter(m -> m.getId() == id).findFirst().orElse(null);
    }

    /** Raised alarms by member id (unsigned), then type; immutable. */
    List<AlarmMember> alarms() {
        return alarms;
    }

    /** Artifact records by digest. */
    List<ArtifactRecord> artifacts() {
        return List.copyOf(artifacts.values());
    }

    /** The record of the artifact with {@code digest}, or null. */
    ArtifactRecord artifact(String digest) {
        return artifacts.get(digest);
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
     * Every lease's id and granted TTL, in id order: what a new leader restarts countdowns from.
     */
    Map<Long, Long> leaseTable() {
        Map<Long, Long> table = new LinkedHashMap<>();
        for (Lease lease : leases()) {
            table.put(lease.id(), lease.ttlSeconds());
        }
        return table;
    }

    /** Whole-state fingerprint, taken between two applied commands (it retries until so). */
    StateDigest digest() {
        return readStable(() -> new StateDigest(revision(), digestNow()));
    }

    /**
     * A SHA-256 over revision, compact revision, every key's history, every lease, every member
     * record and removed member id, the auth state, every artifact record and every alarm, in a
     * fixed order: two replicas that applied the same commands from the same start have the same
     * digest. Run it inside {@link #readStable} for an exact answer while commands are being
     * applied.
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
                    out.writeLong(v.subRevision());
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
            for (MemberRecord member : members) {
                byte[] record = member.toByteArray();
                out.writeInt(record.length);
                out.write(record);
            }
            for (long removed : removedMembers) {
                out.writeLong(removed);
            }
            byte[] authRecord = auth.toSnapshot().toByteArray();
            out.writeInt(authRecord.length);
            out.write(authRecord);
            for (ArtifactRecord artifact : artifacts.values()) {
                byte[] record = artifact.toByteArray();
                out.writeInt(record.length);
                out.write(record);
            }
            for (AlarmMember alarm : alarms) {
                out.writeLong(alarm.getMemberId());
                out.writeInt(alarm.getAlarmValue());
            }
            out.flush();
            sha.update(buffer.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /**
     * etcd's HashKV of this store: a CRC-32C (Castagnoli) over the history up to {@code requested}
     * (0: the latest revision), computed as etcd computes it over its backend, so a store holding
     * the same history hashes to the same value as an etcd member: the bucket name {@code "key"},
     * then each version in (revision, sub-revision) order as etcd's backend key (8-byte big-endian
     * revision, {@code '_'}, 8-byte sub-revision, a {@code 't'} after a tombstone's) followed by
     * the encoded {@code mvccpb.KeyValue} (a tombstone's holds only its key). Of the versions at or
     * below the compact revision it counts only those a compaction at {@code requested} would keep
     * (each key's live version then, unless no key is live), and never a tombstone at exactly the
     * compact revision, as etcd does, so members that compacted and members that did not agree.
     *
     * <p>Reads without locks, like every read: versions above the revision are ignored, and it
     * starts over should a compaction change history meanwhile.
     *
     * @throws KeyspaceException COMPACTED when {@code requested} is below the compact revision,
     *     FUTURE_REVISION when above the latest (etcd's rules; a negative revision hashes nothing)
     */
    KvHash hashKv(long requested) {
        while (true) {
            long compact = compactRevision;
            long current = revision;
            if (requested > 0 && requested < compact) {
                throw KeyspaceException.compacted(requested, compact);
            }
            if (requested > current) {
                throw KeyspaceException.futureRevision(requested, current);
            }
            long at = requested == 0 ? current : requested;
            int hash = crcOfHistory(at, compact);
            if (compactRevision == compact) {
                return new KvHash(hash, at, compact, current);
            }
        }
    }

    private record Hashed(ByteString key, KeyRevision version, boolean kept) {}

    private int crcOfHistory(long at, long compact) {
        List<Hashed> versions = new ArrayList<>();
        boolean anyKept = false;
        for (Map.Entry<ByteString, KeyHistory> e : index.entrySet()) {
            KeyRevision live = e.getValue().at(at);
            if (live != null && live.isTombstone()) {
                live = null;
            }
            anyKept |= live != null;
            for (KeyRevision v : e.getValue().oldestFirst()) {
                if (v.modRevision() <= at) {
                    versions.add(new Hashed(e.getKey(), v, v == live));
                }
            }
        }
        versions.sort(
                Comparator.comparingLong((Hashed h) -> h.version().modRevision())
                        .thenComparingLong(h -> h.version().subRevision()));
        CRC32C crc = new CRC32C();
        crc.update("key".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer revisionKey = ByteBuffer.allocate(18);
        for (Hashed h : versions) {
            KeyRevision v = h.version();
            boolean tombstone = v.isTombstone();
            if (v.modRevision() <= compact
                    && ((tombstone && v.modRevision() == compact) || (anyKept && !h.kept()))) {
                continue;
            }
            revisionKey.clear();
            revisionKey.putLong(v.modRevision()).put((byte) '_').putLong(v.subRevision());
            if (tombstone) {
                revisionKey.put((byte) 't');
            }
            crc.update(revisionKey.array(), 0, revisionKey.position());
            KeyValue kv =
                    tombstone
                            ? KeyValue.newBuilder().setKey(h.key()).build()
                            : v.toKeyValue(h.key(), false);
            crc.update(kv.toByteArray());
        }
        return (int) crc.getValue();
    }

    // ---- metrics: any thread, a moment's value (may be mid-command); leaseCount() is one too ----

    /** Keys that exist at the latest revision (tombstoned keys excluded). */
    long liveKeyCount() {
        return liveKeys;
    }

    /** Bytes of the keys counted by {@link #liveKeyCount()} and of their latest values. */
    long liveBytes() {
        return liveBytes;
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
        countLive(key, history == null ? null : history.latest(), version);
    }

    /**
     * Moves the live counts from {@code before} (null: none) to {@code after}, the key's latest.
     */
    private void countLive(ByteString key, KeyRevision before, KeyRevision after) {
        long keys = liveKeys;
        long bytes = liveBytes;
        if (before != null && !before.isTombstone()) {
            keys--;
            bytes -= key.size() + before.value().size();
        }
        if (!after.isTombstone()) {
            keys++;
            bytes += key.size() + after.value().size();
        }
        liveKeys = keys;
        liveBytes = bytes;
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

    /** The auth state as of the latest applied command; any thread. */
    AuthState auth() {
        return auth;
    }

    /** Write: the auth state after an auth command. */
    void setAuth(AuthState next) {
        auth = next;
    }

    /** Write: the raised alarms, an immutable list in {@link #alarms()}'s order. */
    void setAlarms(List<AlarmMember> next) {
        alarms = next;
    }

    /** Write: records a member, replacing the record with its id. */
    void putMember(MemberRecord member) {
        List<MemberRecord> next = new ArrayList<>(members);
        next.removeIf(m -> m.getId() == member.getId());
        next.add(member);
        next.sort((a, b) -> Long.compareUnsigned(a.getId(), b.getId()));
        members = List.copyOf(next);
    }

    /**
     * Write: forgets a member's record and remembers its id as removed; false when there was none.
     */
    boolean removeMember(long id) {
        List<MemberRecord> next = new ArrayList<>(members);
        if (!next.removeIf(m -> m.getId() == id)) {
            return false;
        }
        members = List.copyOf(next);
        List<Long> removed = new ArrayList<>(removedMembers);
        removed.add(id);
        setRemovedMembers(removed);
        return true;
    }

    /** Ids of removed members (see {@link #removedMembers}), ascending as unsigned; any thread. */
    List<Long> removedMembers() {
        return removedMembers;
    }

    /** Write: the ids of removed members, as a snapshot holds them. */
    void setRemovedMembers(Collection<Long> ids) {
        removedMembers = ids.stream().distinct().sorted(Long::compareUnsigned).toList();
    }

    /** Write: no member records and no removed ids, for a new cluster seeded from this state. */
    void forgetMembers() {
        members = List.of();
        removedMembers = List.of();
    }

    /** Write: records an artifact, replacing the record with its digest. */
    void putArtifact(ArtifactRecord artifact) {
        artifacts.put(artifact.getDigest(), artifact);
    }

    /** Write: forgets an artifact's record. */
    void removeArtifact(String digest) {
        artifacts.remove(digest);
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

    int memberCount() {
        return members.size();
    }

    int artifactCount() {
        return artifacts.size();
    }

    /** Restores a history read from a snapshot; the key's attached lease is re-linked. */
    void restoreHistory(ByteString key, KeyHistory history) {
        KeyHistory replaced = index.put(key, history);
        KeyRevision latest = history.latest();
        countLive(key, replaced == null ? null : replaced.latest(), latest);
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
