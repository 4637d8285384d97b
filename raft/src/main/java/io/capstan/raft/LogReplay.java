package io.capstan.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.capstan.raft.proto.Command;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.server.RaftServerConfigKeys.Log.CorruptionPolicy;
import org.apache.ratis.server.raftlog.segmented.LogSegment;
import org.apache.ratis.server.raftlog.segmented.LogSegmentPath;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;

/**
 * A member's state rebuilt from its own files with no Raft running, for {@code capstan recover}
 * after its quorum is lost for good: its latest Raft snapshot (or the backup it was seeded from),
 * then every command in its log after that snapshot, in log order, applied as its state machine
 * applies them.
 *
 * <p>Every entry on the member's disk is taken, also those it had not yet heard were committed:
 * that is what the member would commit had it won an election, and it keeps every acknowledged
 * write the member holds (a write is acknowledged once a majority has it on disk, before every
 * member learns that it is committed). Entries it never received are gone with the lost majority. A
 * torn entry at the end of the log (the process was killed while writing it) ends the replay.
 *
 * <p>Takes Ratis's lock on the member's storage while it reads, so it refuses a member whose daemon
 * is running. Stateless; one thread.
 */
public final class LogReplay {
    /** Larger than any entry Capstan writes (commands are checked far below it before the log). */
    private static final SizeInBytes MAX_ENTRY = SizeInBytes.valueOf(64L << 20);

    /** The state replayed: its last log index, revision and size. */
    public record Replayed(long logIndex, long revision, int keys, int leases) {}

    private LogReplay() {}

    /**
     * Replays the member whose Raft settings are {@code settings} and writes its state to {@code
     * backup} (a new file, in the format of {@link Backup}), synced.
     *
     * @throws IOException when the member has no Raft state, its storage is locked, a snapshot or
     *     log entry does not load, or the log has a gap after the snapshot
     */
    public static Replayed writeBackup(RaftSettings settings, Path backup) throws IOException {
        Path groupDir = settings.dataDir().resolve(settings.groupId().toString());
        if (!Files.isDirectory(groupDir)) {
            throw new IOException(groupDir + " does not exist; there is no Raft state to recover");
        }
        RaftStorage storage =
                RaftStorage.newBuilder()
                        .setDirectory(groupDir.toFile())
                        .setOption(RaftStorage.StartupOption.RECOVER)
                        .setLogCorruptionPolicy(CorruptionPolicy.WARN_AND_RETURN)
                        .setStorageFreeSpaceMin(SizeInBytes.ZERO)
                        .build();
        storage.initialize();
        try {
            Replay replay = start(settings, storage);
            for (LogSegmentPath segment : LogSegmentPath.getLogSegmentPaths(storage)) {
                LogSegment.readSegmentFile(
                        segment.getPath().toFile(),
                        segment.getStartEnd(),
                        MAX_ENTRY,
                        CorruptionPolicy.WARN_AND_RETURN,
                        null,
                        replay::apply);
            }
            if (replay.failure != null) {
                throw replay.failure;
            }
            write(replay.store, replay.lastIndex, backup);
            return new Replayed(
                    replay.lastIndex,
                    replay.store.revision(),
                    replay.store.keyCount(),
                    replay.store.leaseCount());
        } finally {
            storage.close();
        }
    }

    /** The store as of the member's latest snapshot, or the seed it started from, or empty. */
    private static Replay start(RaftSettings settings, RaftStorage storage) throws IOException {
        SimpleStateMachineStorage snapshots = new SimpleStateMachineStorage();
        snapshots.init(storage);
        SingleFileSnapshotInfo latest = snapshots.loadLatestSnapshot();
        if (latest == null) {
            Path seed = Backup.seedFile(settings.dataDir());
            return new Replay(Files.exists(seed) ? Backup.readSeed(seed) : new MvccStore(), 0);
        }
        Path file = latest.getFile().getPath();
        if (latest.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file.toFile(), latest.getFile().getFileDigest());
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return new Replay(SnapshotCodec.read(in), latest.getIndex());
        }
    }

    private static void write(MvccStore store, long logIndex, Path backup) throws IOException {
        Path snapshot = backup.resolveSibling(backup.getFileName() + ".state");
        try {
            try (OutputStream out =
                    new BufferedOutputStream(Files.newOutputStream(snapshot), 1 << 16)) {
                SnapshotCodec.write(store, out);
            }
            try (SnapshotExport export = SnapshotExport.open(snapshot, logIndex);
                    FileChannel file =
                            FileChannel.open(
                                    backup,
                                    StandardOpenOption.CREATE_NEW,
                                    StandardOpenOption.WRITE)) {
                OutputStream out =
                        new BufferedOutputStream(Channels.newOutputStream(file), 1 << 16);
                export.writeBackup(out);
                out.flush();
                file.force(true);
            }
        } finally {
            Files.deleteIfExists(snapshot);
        }
    }

    /** The replay's state; the reading thread only. */
    private static final class Replay {
        final MvccStore store;
        final Applier applier;

        /** The first failure; segments are read through a consumer that cannot throw. */
        IOException failure;

        long lastIndex;

        Replay(MvccStore store, long snapshotIndex) {
            this.store = store;
            this.applier = new Applier(store, LeaseEvents.NONE, AppliedChanges.NONE);
            this.lastIndex = snapshotIndex;
        }

        /** Applies one log entry read from a segment; entries the snapshot holds are skipped. */
        void apply(LogEntryProto entry) {
            if (failure != null || entry.getIndex() <= lastIndex) {
                return;
            }
            if (entry.getIndex() != lastIndex + 1) {
                failure =
                        new IOException(
                                "the log has no entry "
                                        + (lastIndex + 1)
                                        + " (the next one is "
                                        + entry.getIndex()
                                        + ")");
                return;
            }
            if (entry.hasStateMachineLogEntry()) {
                try {
                    applier.apply(
                            Command.parseFrom(
                                    entry.getStateMachineLogEntry()
                                            .getLogData()
                                            .asReadOnlyByteBuffer()),
                            entry.getIndex());
                } catch (InvalidProtocolBufferException e) {
                    failure =
                            new IOException(
                                    "log entry " + entry.getIndex() + " does not decode", e);
                    return;
                }
            }
            lastIndex = entry.getIndex();
        }
    }
}
