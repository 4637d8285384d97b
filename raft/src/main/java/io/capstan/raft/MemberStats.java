package io.capstan.raft;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.ratis.statemachine.SnapshotInfo;

/**
 * What one member counts and measures, read at one moment for metrics ({@link RaftNode#stats()}).
 * Each figure is read on its own, without locks, so two of them may be a command apart.
 *
 * @param proposals commands this member proposed to Raft (for its clients, lease expiry and
 *     membership), since it started
 * @param failedProposals those of them Raft did not apply: not accepted by a leader, timed out, or
 *     refused when the leader validated them (a command the state refused, e.g. a compaction of a
 *     compacted revision, was applied and is not counted)
 * @param leaderChanges how often this member saw a new leader (the first included)
 * @param revision the keyspace's latest revision
 * @param compactRevision reads below it fail as compacted; -1 before the first compaction
 * @param keys keys that exist at the latest revision
 * @param keyBytes bytes of those keys and of their latest values
 * @param leases leases granted and not yet revoked or expired
 * @param watches watches open on this member
 * @param watchPendingEvents events queued for watch listeners and not handed to them yet
 * @param watchPendingRevisions applied revisions the watch hub has not dispatched yet
 * @param snapshot the latest snapshot file, if this member has one
 * @param applyLatency how long applying each kind of command took, for the kinds seen so far
 */
public record MemberStats(
        long proposals,
        long failedProposals,
        long leaderChanges,
        long revision,
        long compactRevision,
        long keys,
        long keyBytes,
        long leases,
        long watches,
        long watchPendingEvents,
        long watchPendingRevisions,
        Optional<SnapshotFile> snapshot,
        List<Latency> applyLatency) {

    public MemberStats {
        Objects.requireNonNull(snapshot, "snapshot");
        applyLatency = List.copyOf(applyLatency);
    }

    /** A member without a state machine yet: only its proposal counts, no keyspace or watches. */
    static MemberStats notStarted(long proposals, long failedProposals) {
        return new MemberStats(
                proposals, failedProposals, 0, 0, 0, 0, 0, 0, 0, 0, 0, Optional.empty(), List.of());
    }

    /**
     * Reads the stats of a member whose state machine and watch hub are {@code machine} and {@code
     * hub} (null before it started), without locks. Looks at the latest snapshot file on disk.
     */
    static MemberStats read(
            KeyspaceStateMachine machine, WatchHub hub, long proposals, long failedProposals) {
        if (machine == null || hub == null) {
            return notStarted(proposals, failedProposals);
        }
        MvccStore store = machine.store();
        return new MemberStats(
                proposals,
                failedProposals,
                machine.leaderChanges(),
                store.revision(),
                store.compactRevision(),
                store.liveKeyCount(),
                store.liveBytes(),
                store.leaseCount(),
                hub.watchCount(),
                hub.pendingEvents(),
                hub.pendingRevisions(),
                latestSnapshot(machine),
                machine.applyLatency());
    }

    private static Optional<SnapshotFile> latestSnapshot(KeyspaceStateMachine machine) {
        SnapshotInfo latest = machine.getLatestSnapshot();
        if (latest == null || latest.getFiles().isEmpty()) {
            return Optional.empty();
        }
        Path file = latest.getFiles().get(0).getPath();
        try {
            return Optional.of(
                    new SnapshotFile(
                            latest.getIndex(),
                            Files.size(file),
                            Files.getLastModifiedTime(file).toInstant()));
        } catch (IOException e) {
            // Replaced by a newer one meanwhile: the next read finds that.
            return Optional.empty();
        }
    }

    /**
     * The latest snapshot of the state machine.
     *
     * @param index the last log index it covers
     * @param bytes its size
     * @param written when its file was last written
     */
    public record SnapshotFile(long index, long bytes, Instant written) {
        public SnapshotFile {
            Objects.requireNonNull(written, "written");
        }
    }

    /**
     * A latency histogram.
     *
     * @param name what was timed, e.g. {@code put} or {@code lease_grant}
     * @param upperBounds bucket bounds in seconds, ascending, the last one +Infinity
     * @param counts observations per bucket: above the previous bound, at most this one
     * @param sumSeconds the sum of all observations
     */
    public record Latency(
            String name, List<Double> upperBounds, List<Long> counts, double sumSeconds) {
        public Latency {
            Objects.requireNonNull(name, "name");
            upperBounds = List.copyOf(upperBounds);
            counts = List.copyOf(counts);
            if (upperBounds.size() != counts.size()) {
                throw new IllegalArgumentException(
                        upperBounds.size() + " bounds for " + counts.size() + " counts");
            }
        }

        /** Observations in all buckets. */
        public long count() {
            return counts.stream().mapToLong(Long::longValue).sum();
        }
    }
}
