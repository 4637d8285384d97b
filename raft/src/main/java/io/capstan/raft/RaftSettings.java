package io.capstan.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * Everything one member needs to run, bound once at startup and immutable after. The defaults
 * ({@link #builder}) suit a LAN cluster; {@code reference.conf} lists the same values under {@code
 * capstan.raft}.
 *
 * @param nodeId this member's id; must be one of {@code peers}
 * @param peers every member of the group, this one included
 * @param groupId the Raft group's id, the same on every member
 * @param dataDir where the Raft log and snapshots live (created when missing)
 * @param electionTimeoutMin lower bound of the randomized election timeout
 * @param electionTimeoutMax upper bound of the randomized election timeout
 * @param requestTimeout how long one forwarded request may take before it is retried
 * @param snapshotThreshold log entries applied since the last snapshot that trigger a new one
 * @param snapshotsRetained snapshot files kept on disk
 * @param logEntriesKeptAfterSnapshot log entries kept behind a snapshot, so a briefly lagging
 *     follower catches up from the log instead of a snapshot (etcd keeps 5,000)
 * @param logSegmentBytes size at which a log segment is closed (only closed segments are purged)
 * @param leaseCheckInterval how often the leader looks for expired leases
 * @param limits bounds on commands
 * @param watch bounds of the watch hub
 * @param joinExisting whether a member starting on an empty data directory joins a running cluster
 *     (it must have been added first) rather than form one with {@code peers} (etcd's {@code
 *     initial-cluster-state = existing})
 */
public record RaftSettings(
        String nodeId,
        List<Peer> peers,
        UUID groupId,
        Path dataDir,
        Duration electionTimeoutMin,
        Duration electionTimeoutMax,
        Duration requestTimeout,
        long snapshotThreshold,
        int snapshotsRetained,
        long logEntriesKeptAfterSnapshot,
        long logSegmentBytes,
        Duration leaseCheckInterval,
        Limits limits,
        WatchSettings watch,
        boolean joinExisting) {

    public RaftSettings {
        Objects.requireNonNull(nodeId, "nodeId");
        peers = List.copyOf(Objects.requireNonNull(peers, "peers"));
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(watch, "watch");
        if (joinExisting && peers.size() < 2) {
            throw new IllegalArgumentException(
                    "joinExisting needs peers to list at least one other member to join through");
        }
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("peers must list at least this member");
        }
        Set<String> ids = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        for (Peer peer : peers) {
            if (!ids.add(peer.id())) {
                throw new IllegalArgumentException("peers lists id " + peer.id() + " twice");
            }
            if (!addresses.add(peer.address())) {
                throw new IllegalArgumentException(
                        "peers lists address " + peer.address() + " twice");
            }
        }
        if (!ids.contains(nodeId)) {
            throw new IllegalArgumentException("nodeId " + nodeId + " is not among peers " + ids);
        }
        positive("electionTimeoutMin", electionTimeoutMin);
        positive("electionTimeoutMax", electionTimeoutMax);
        positive("requestTimeout", requestTimeout);
        positive("leaseCheckInterval", leaseCheckInterval);
        if (electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
            throw new IllegalArgumentException(
                    "electionTimeoutMax ("
                            + electionTimeoutMax
                            + ") must exceed electionTimeoutMin ("
                            + electionTimeoutMin
                            + ")");
        }
        if (snapshotThreshold <= 0) {
            throw new IllegalArgumentException(
                    "snapshotThreshold must be positive, got " + snapshotThreshold);
        }
        if (snapshotsRetained <= 0) {
            throw new IllegalArgumentException(
                    "snapshotsRetained must be positive, got " + snapshotsRetained);
        }
        if (logEntriesKeptAfterSnapshot < 0) {
            throw new IllegalArgumentException(
                    "logEntriesKeptAfterSnapshot must not be negative, got "
                            + logEntriesKeptAfterSnapshot);
        }
        if (logSegmentBytes < 1024) {
            throw new IllegalArgumentException(
                    "logSegmentBytes must be at least 1024, got " + logSegmentBytes);
        }
    }

    private static void positive(String name, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + value);
        }
    }

    /** How long one request of this member may take, its retries to other members included. */
    Duration requestDeadline() {
        return requestTimeout.multipliedBy(3);
    }

    /** This member's own entry in {@link #peers}. */
    public Peer self() {
        return peers.stream().filter(p -> p.id().equals(nodeId)).findFirst().orElseThrow();
    }

    public static Builder builder(String nodeId, List<Peer> peers, UUID groupId, Path dataDir) {
        return new Builder(nodeId, peers, groupId, dataDir);
    }

    /**
     * Starts from the defaults; each setter replaces one. Not thread-safe; use it, then discard it.
     */
    public static final class Builder {
        private final String nodeId;
        private final List<Peer> peers;
        private final UUID groupId;
        private final Path dataDir;
        private Duration electionTimeoutMin = Duration.ofMillis(1000);
        private Duration electionTimeoutMax = Duration.ofMillis(2000);
        private Duration requestTimeout = Duration.ofSeconds(5);
        private long snapshotThreshold = 100_000;
        private int snapshotsRetained = 2;
        private long logEntriesKeptAfterSnapshot = 5_000;
        private long logSegmentBytes = 8L << 20;
        private Duration leaseCheckInterval = Duration.ofMillis(500);
        private Limits limits = Limits.DEFAULT;
        private WatchSettings watch = WatchSettings.DEFAULT;
        private boolean joinExisting;

        private Builder(String nodeId, List<Peer> peers, UUID groupId, Path dataDir) {
            this.nodeId = nodeId;
            this.peers = peers;
            this.groupId = groupId;
            this.dataDir = dataDir;
        }

        public Builder electionTimeout(Duration min, Duration max) {
            this.electionTimeoutMin = min;
            this.electionTimeoutMax = max;
            return this;
        }

        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        public Builder snapshotThreshold(long entries) {
            this.snapshotThreshold = entries;
            return this;
        }

        public Builder snapshotsRetained(int files) {
            this.snapshotsRetained = files;
            return this;
        }

        public Builder logEntriesKeptAfterSnapshot(long entries) {
            this.logEntriesKeptAfterSnapshot = entries;
            return this;
        }

        public Builder logSegmentBytes(long bytes) {
            this.logSegmentBytes = bytes;
            return this;
        }

        public Builder leaseCheckInterval(Duration interval) {
            this.leaseCheckInterval = interval;
            return this;
        }

        public Builder limits(Limits limits) {
            this.limits = limits;
            return this;
        }

        public Builder watch(WatchSettings watch) {
            this.watch = watch;
            return this;
        }

        public Builder joinExisting(boolean join) {
            this.joinExisting = join;
            return this;
        }

        public RaftSettings build() {
            return new RaftSettings(
                    nodeId,
                    peers,
                    groupId,
                    dataDir,
                    electionTimeoutMin,
                    electionTimeoutMax,
                    requestTimeout,
                    snapshotThreshold,
                    snapshotsRetained,
                    logEntriesKeptAfterSnapshot,
                    logSegmentBytes,
                    leaseCheckInterval,
                    limits,
                    watch,
                    joinExisting);
        }
    }
}
