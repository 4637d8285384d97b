package io.capstan.controller.config;

import io.capstan.raft.Limits;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftSettings;
import io.capstan.raft.WatchSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The Raft tuning keys under {@code capstan.raft} (declared with their defaults by the raft
 * module's reference.conf), each checked on its own so that every bad value is reported with its
 * key, then handed to {@link RaftSettings#builder}. Immutable.
 */
record RaftTuning(
        Duration electionTimeoutMin,
        Duration electionTimeoutMax,
        Duration requestTimeout,
        long snapshotThreshold,
        int snapshotsRetained,
        long logEntriesKeptAfterSnapshot,
        long logSegmentBytes,
        Duration leaseCheckInterval,
        int maxKeyBytes,
        int maxValueBytes,
        int maxRequestBytes,
        int maxTxnOps,
        long maxLeaseTtlSeconds,
        WatchSettings watch) {

    static final String ELECTION_TIMEOUT_MIN = "capstan.raft.election-timeout-min";
    static final String ELECTION_TIMEOUT_MAX = "capstan.raft.election-timeout-max";
    static final String REQUEST_TIMEOUT = "capstan.raft.request-timeout";
    static final String MAX_REQUEST_BYTES = "capstan.raft.limits.max-request-bytes";
    private static final String LIMITS = "capstan.raft.limits.";
    private static final String WATCH = "capstan.raft.watch.";
    private static final String COUNT = "must be a positive whole number";

    /** etcd's own ceiling on a lease TTL. */
    private static final long MAX_LEASE_TTL_SECONDS = 9_000_000_000L;

    private static final String SIZE = "must be a positive size below 2GiB, e.g. 1536KiB";

    /** The names {@link RaftSettings} and {@link Limits} use in their messages, by key path. */
    static final Map<String, String> KEYS_BY_NAME =
            Map.ofEntries(
                    Map.entry("nodeId", "capstan.node.id"),
                    Map.entry("peers", "capstan.raft.peers"),
                    Map.entry("peer", "capstan.raft.peers"),
                    Map.entry("joinExisting", "capstan.raft.initial-cluster-state"),
                    Map.entry("groupId", "capstan.raft.group-id"),
                    Map.entry("dataDir", "capstan.node.data-dir"),
                    Map.entry("electionTimeoutMin", ELECTION_TIMEOUT_MIN),
                    Map.entry("electionTimeoutMax", ELECTION_TIMEOUT_MAX),
                    Map.entry("requestTimeout", REQUEST_TIMEOUT),
                    Map.entry("snapshotThreshold", "capstan.raft.snapshot-threshold"),
                    Map.entry("snapshotsRetained", "capstan.raft.snapshots-retained"),
                    Map.entry(
                            "logEntriesKeptAfterSnapshot",
                            "capstan.raft.log-entries-kept-after-snapshot"),
                    Map.entry("logSegmentBytes", "capstan.raft.log-segment-size"),
                    Map.entry("leaseCheckInterval", "capstan.raft.lease-check-interval"),
                    Map.entry("maxKeyBytes", LIMITS + "max-key-bytes"),
                    Map.entry("maxValueBytes", LIMITS + "max-value-bytes"),
                    Map.entry("maxRequestBytes", LIMITS + "max-request-bytes"),
                    Map.entry("maxTxnOps", LIMITS + "max-txn-ops"),
                    Map.entry("maxLeaseTtlSeconds", LIMITS + "max-lease-ttl-seconds"),
                    Map.entry("bufferEvents", WATCH + "buffer-events"),
                    Map.entry("handoffRevisions", WATCH + "handoff-revisions"),
                    Map.entry("catchUpRevisions", WATCH + "catch-up-revisions"),
                    Map.entry("maxWatches", WATCH + "max-watches"),
                    Map.entry("progressInterval", WATCH + "progress-interval"));

    /** Reads every tuning key; empty when any of them is bad (each reported to {@code r}). */
    static Optional<RaftTuning> read(ConfigReader r) {
        Optional<Duration> electionMin = r.duration(ELECTION_TIMEOUT_MIN, false);
        Optional<Duration> electionMax = r.duration(ELECTION_TIMEOUT_MAX, false);
        Optional<Duration> requestTimeout = r.duration(REQUEST_TIMEOUT, false);
        Optional<Long> snapshotThreshold =
                r.whole(
                        "capstan.raft.snapshot-threshold",
                        1,
                        Long.MAX_VALUE,
                        "must be a positive whole number of log entries");
        Optional<Integer> snapshotsRetained =
                r.integer(
                        "capstan.raft.snapshots-retained",
                        1,
                        Integer.MAX_VALUE,
                        "must be a positive whole number of snapshot files");
        Optional<Long> keptAfterSnapshot =
                r.whole(
                        "capstan.raft.log-entries-kept-after-snapshot",
                        0,
                        Long.MAX_VALUE,
                        "must be zero or a positive whole number of log entries");
        Optional<Long> segmentBytes =
                r.bytes(
                        "capstan.raft.log-segment-size",
                        1024,
                        Long.MAX_VALUE,
                        "must be a size of at least 1KiB, e.g. 32MiB");
        Optional<Duration> leaseCheckInterval =
                r.duration("capstan.raft.lease-check-interval", false);
        Optional<Long> maxKeyBytes = r.bytes(LIMITS + "max-key-bytes", 1, Integer.MAX_VALUE, SIZE);
        Optional<Long> maxValueBytes =
                r.bytes(LIMITS + "max-value-bytes", 1, Integer.MAX_VALUE, SIZE);
        Optional<Long> maxRequestBytes = r.bytes(MAX_REQUEST_BYTES, 1, Integer.MAX_VALUE, SIZE);
        Optional<Integer> maxTxnOps =
                r.integer(
                        LIMITS + "max-txn-ops",
                        1,
                        Integer.MAX_VALUE,
                        "must be a positive whole number of operations");
        Optional<Long> maxLeaseTtl =
                r.whole(
                        LIMITS + "max-lease-ttl-seconds",
                        1,
                        MAX_LEASE_TTL_SECONDS,
                        "must be a whole number of seconds 1.."
                                + MAX_LEASE_TTL_SECONDS
                                + " (etcd's maximum)");

        Optional<Integer> bufferEvents =
                r.integer(WATCH + "buffer-events", 1, Integer.MAX_VALUE, COUNT);
        Optional<Integer> handoffRevisions =
                r.integer(WATCH + "handoff-revisions", 1, Integer.MAX_VALUE, COUNT);
        Optional<Integer> catchUpRevisions =
                r.integer(WATCH + "catch-up-revisions", 1, Integer.MAX_VALUE, COUNT);
        Optional<Integer> maxWatches =
                r.integer(WATCH + "max-watches", 1, Integer.MAX_VALUE, COUNT);
        Optional<Duration> progressInterval = r.duration(WATCH + "progress-interval", false);

        if (electionMin.isPresent()
                && electionMax.isPresent()
                && electionMax.get().compareTo(electionMin.get()) <= 0) {
            r.problem(
                    ELECTION_TIMEOUT_MAX,
                    r.valueAt(ELECTION_TIMEOUT_MAX),
                    "must exceed "
                            + ELECTION_TIMEOUT_MIN
                            + " ("
                            + Durations.text(electionMin.get())
                            + "): the election timeout is drawn at random between the two");
            return Optional.empty();
        }
        if (Stream.of(
                        electionMin,
                        electionMax,
                        requestTimeout,
                        snapshotThreshold,
                        snapshotsRetained,
                        keptAfterSnapshot,
                        segmentBytes,
                        leaseCheckInterval,
                        maxKeyBytes,
                        maxValueBytes,
                        maxRequestBytes,
                        maxTxnOps,
                        maxLeaseTtl,
                        bufferEvents,
                        handoffRevisions,
                        catchUpRevisions,
                        maxWatches,
                        progressInterval)
                .anyMatch(Optional::isEmpty)) {
            return Optional.empty();
        }
        return Optional.of(
                new RaftTuning(
                        electionMin.get(),
                        electionMax.get(),
                        requestTimeout.get(),
                        snapshotThreshold.get(),
                        snapshotsRetained.get(),
                        keptAfterSnapshot.get(),
                        segmentBytes.get(),
                        leaseCheckInterval.get(),
                        Math.toIntExact(maxKeyBytes.get()),
                        Math.toIntExact(maxValueBytes.get()),
                        Math.toIntExact(maxRequestBytes.get()),
                        maxTxnOps.get(),
                        maxLeaseTtl.get(),
                        new WatchSettings(
                                bufferEvents.get(),
                                handoffRevisions.get(),
                                catchUpRevisions.get(),
                                maxWatches.get(),
                                progressInterval.get())));
    }

    /**
     * This tuning applied to one member.
     *
     * @param members every member, this node included, as the controller binds them
     * @throws IllegalArgumentException if the raft module refuses a value
     */
    RaftSettings settings(
            String nodeId,
            List<PeerEntry> members,
            UUID groupId,
            Path dataDir,
            boolean joinExisting) {
        List<Peer> peers = members.stream().map(p -> new Peer(p.id(), p.address())).toList();
        return RaftSettings.builder(nodeId, peers, groupId, dataDir)
                .electionTimeout(electionTimeoutMin, electionTimeoutMax)
                .requestTimeout(requestTimeout)
                .snapshotThreshold(snapshotThreshold)
                .snapshotsRetained(snapshotsRetained)
                .logEntriesKeptAfterSnapshot(logEntriesKeptAfterSnapshot)
                .logSegmentBytes(logSegmentBytes)
                .leaseCheckInterval(leaseCheckInterval)
                .limits(
                        new Limits(
                                maxKeyBytes,
                                maxValueBytes,
                                maxRequestBytes,
                                maxTxnOps,
                                maxLeaseTtlSeconds))
                .watch(watch)
                .joinExisting(joinExisting)
                .build();
    }
}
