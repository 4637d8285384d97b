package io.capstan.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.Parser;
import io.capstan.raft.proto.AlarmMember;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.AuthSnapshot;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.SnapshotEntry;
import io.capstan.raft.proto.SnapshotHeader;
import io.capstan.raft.proto.SnapshotKey;
import io.capstan.raft.proto.SnapshotLease;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a {@link MvccStore} as a stream of length-delimited records and reads it back (the layout
 * is described next to {@code SnapshotHeader} in raft.proto). Record by record, so a large keyspace
 * never needs one huge message. Stateless.
 */
final class SnapshotCodec {
    static final int FORMAT = 1;

    private SnapshotCodec() {}

    /** Call on the apply thread (or on a store no other thread writes). */
    static void write(MvccStore store, OutputStream out) throws IOException {
        write(new Image(store), out);
    }

    /** Any thread: an image does not change. */
    static void write(Image image, OutputStream out) throws IOException {
        SnapshotHeader.newBuilder()
                .setFormat(FORMAT)
                .setRevision(image.revision)
                .setCompactRevision(image.compactRevision)
                .setKeyCount(image.keys.length)
                .setLeaseCount(image.leases.size())
                .setMemberCount(image.members.size())
                .setHasAuth(true)
                .setArtifactCount(image.artifacts.size())
                .setAlarmCount(image.alarms.size())
                .addAllRemovedMemberIds(image.removedMembers)
                .build()
                .writeDelimitedTo(out);
        for (SnapshotLease lease : image.leases) {
            lease.writeDelimitedTo(out);
        }
        for (int i = 0; i < image.keys.length; i++) {
            SnapshotKey.Builder record = SnapshotKey.newBuilder().setKey(image.keys[i]);
            for (KeyRevision v : image.histories[i].oldestFirst()) {
                record.addEntries(
                        SnapshotEntry.newBuilder()
                                .setModRevision(v.modRevision())
                                .setCreateRevision(v.createRevision())
                                .setVersion(v.version())
                                .setValue(v.value())
                                .setLease(v.lease())
                                .setSubRevision(v.subRevision()));
            }
            record.build().writeDelimitedTo(out);
        }
        for (MemberRecord member : image.members) {
            member.writeDelimitedTo(out);
        }
        image.auth.writeDelimitedTo(out);
        for (ArtifactRecord artifact : image.artifacts) {
            artifact.writeDelimitedTo(out);
        }
        for (AlarmMember alarm : image.alarms) {
            alarm.writeDelimitedTo(out);
        }
    }

    /**
     * Everything a snapshot holds, taken from a store between two commands. Key histories are
     * immutable (the writer replaces them), so taking an image copies references only, and the
     * image can be written out by another thread while the store moves on.
     */
    static final class Image {
        private final long revision;
        private final long compactRevision;
        private final List<SnapshotLease> leases;
        private final ByteString[] keys;
        private final KeyHistory[] histories;
        private final List<MemberRecord> members;
        private final AuthSnapshot auth;
        private final List<ArtifactRecord> artifacts;
        private final List<AlarmMember> alarms;
        private final List<Long> removedMembers;

        /** How long taking this image held its thread (the apply thread) up. */
        private final long takingNanos;

        /** Call on the apply thread (or on a store no other thread writes). */
        Image(MvccStore store) {
            long started = System.nanoTime();
            revision = store.revision();
            compactRevision = store.compactRevision();
            List<SnapshotLease> leaseRecords = new ArrayList<>(store.leaseCount());
            for (Lease lease : store.leases()) {
                leaseRecords.add(
                        SnapshotLease.newBuilder()
                                .setId(lease.id())
                                .setTtl(lease.ttlSeconds())
                                .build());
            }
            leases = List.copyOf(leaseRecords);
            int count = store.keyCount();
            keys = new ByteString[count];
            histories = new KeyHistory[count];
            int[] next = {0};
            store.forEachHistory(
                    (key, history) -> {
                        keys[next[0]] = key;
                        histories[next[0]] = history;
                        next[0]++;
                    });
            members = store.members();
            auth = store.auth().toSnapshot();
            artifacts = store.artifacts();
            alarms = store.alarms();
            removedMembers = store.removedMembers();
            takingNanos = System.nanoTime() - started;
        }

        long revision() {
            return revision;
        }

        int keyCount() {
            return keys.length;
        }

        long takingNanos() {
            return takingNanos;
        }
    }

    /**
     * Reads a store written by {@link #write}.
     *
     * @throws IOException when the stream is truncated, of another format, or inconsistent
     */
    static MvccStore read(InputStream in) throws IOException {
        return read(in, false);
    }

    /**
     * Reads a store written by {@link #write}; with {@code padded}, followed by fewer than {@value
     * SnapshotExport#BLOCK} zero bytes, as a {@link SnapshotExport} ends.
     *
     * @throws IOException when the stream is truncated, of another format, or inconsistent
     */
    static MvccStore read(InputStream in, boolean padded) throws IOException {
        SnapshotHeader header = SnapshotHeader.parseDelimitedFrom(in);
        if (header == null) {
            throw new IOException("snapshot is empty");
        }
        if (header.getFormat() != FORMAT) {
            throw new IOException("snapshot format " + header.getFormat() + " is not " + FORMAT);
        }
        if (header.getRevision() < MvccStore.EMPTY_REVISION) {
            throw new IOException(
                    "snapshot revision "
                            + header.getRevision()
                            + " is below "
                            + MvccStore.EMPTY_REVISION
                            + ", the revision of an empty store");
        }
        if (header.getCompactRevision() < MvccStore.NOT_COMPACTED
                || header.getCompactRevision() > header.getRevision()) {
            throw new IOException(
                    "snapshot compact revision "
                            + header.getCompactRevision()
                            + " is outside "
                            + MvccStore.NOT_COMPACTED
                            + ".."
                            + header.getRevision());
        }
        MvccStore store = new MvccStore();
        readRecords(
                in,
                header.getLeaseCount(),
                SnapshotLease.parser(),
                "leases",
                lease -> store.addLease(new Lease(lease.getId(), lease.getTtl())));
        readRecords(
                in, header.getKeyCount(), SnapshotKey.parser(), "keys", key -> restore(store, key));
        readRecords(
                in, header.getMemberCount(), MemberRecord.parser(), "members", store::putMember);
        store.setRemovedMembers(header.getRemovedMemberIdsList());
        if (header.getHasAuth()) {
            AuthSnapshot auth = AuthSnapshot.parseDelimitedFrom(in);
            if (auth == null) {
                throw new IOException("snapshot ends before its auth record");
            }
            store.setAuth(AuthState.fromSnapshot(auth));
        }
        readRecords(
                in,
                header.getArtifactCount(),
                ArtifactRecord.parser(),
                "artifacts",
                store::putArtifact);
        List<AlarmMember> alarms = new ArrayList<>();
        readRecords(in, header.getAlarmCount(), AlarmMember.parser(), "alarms", alarms::add);
        store.setAlarms(List.copyOf(alarms));
        int padding = 0;
        for (int b = in.read(); b != -1; b = in.read()) {
            if (!padded || b != 0 || ++padding >= SnapshotExport.BLOCK) {
                throw new IOException("snapshot has data after its last record");
            }
        }
        store.restoreRevisions(header.getRevision(), header.getCompactRevision());
        return store;
    }

    /** What is done with each record read; may refuse it. */
    private interface RecordSink<T> {
        void accept(T record) throws IOException;
    }

    /** Reads {@code count} length-delimited records, handing each to {@code sink} in order. */
    private static <T> void readRecords(
            InputStream in, long count, Parser<T> parser, String what, RecordSink<T> sink)
            throws IOException {
        for (long i = 0; i < count; i++) {
            T record = parser.parseDelimitedFrom(in);
            if (record == null) {
                throw new IOException("snapshot ends after " + i + " of " + count + " " + what);
            }
            sink.accept(record);
        }
    }

    private static void restore(MvccStore store, SnapshotKey key) throws IOException {
        List<KeyRevision> versions = new ArrayList<>(key.getEntriesCount());
        for (SnapshotEntry e : key.getEntriesList()) {
            versions.add(
                    new KeyRevision(
                            e.getModRevision(),
                            e.getCreateRevision(),
                            e.getVersion(),
                            e.getValue(),
                            e.getLease(),
                            e.getSubRevision()));
        }
        try {
            store.restoreHistory(key.getKey(), KeyHistory.fromOldestFirst(versions));
        } catch (IllegalArgumentException e) {
            throw new IOException(
                    "snapshot key "
                            + CommandValidator.printable(key.getKey())
                            + " has a bad history: "
                            + e.getMessage(),
                    e);
        }
    }
}
