package io.capstan.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis state machine: log entries are encoded {@link Command}s applied to a {@link MvccStore};
 * read-only requests are encoded {@link Query}s answered from it.
 *
 * <p><b>Threads.</b> Ratis calls {@link #applyTransaction}, {@link #takeSnapshot} and {@link
 * #reinitialize} on its single state-machine updater thread, the apply thread that owns all writes.
 * An automatic snapshot is written by a thread of its own from an image of the store. {@link
 * #query} runs on RPC threads and reads without locks (see {@link MvccStore}). The current store is
 * swapped whole, through a volatile field, when a snapshot is installed. After each revision it
 * publishes, and after each store swap, the apply thread hands the news to {@link AppliedChanges}
 * (the watch hub) without waiting. For metrics it times each command into lock-free histograms
 * ({@link ApplyTimings}) and counts leader changes in an atomic.
 *
 * <p><b>Lifecycle</b> (Ratis's {@link LifeCycle}): NEW, then STARTING and RUNNING in {@link
 * #initialize}; PAUSING and PAUSED in {@link #pause} before Ratis installs a snapshot from the
 * leader; STARTING and RUNNING again in {@link #reinitialize}, which loads it.
 *
 * <p><b>Snapshots</b> are one file per snapshot, {@code snapshot.<term>_<index>} in Ratis's
 * state-machine directory, with Ratis's {@code .md5} beside it. Each is written to a temporary
 * file, fsynced and renamed into place, so a crash leaves either no snapshot or a whole one. Ratis
 * deletes old ones (retention setting) and purges the log they cover.
 */
final class KeyspaceStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(KeyspaceStateMachine.class);
    private static final String TEMP_SUFFIX = ".tmp";

    private final String nodeId;
    private final CommandValidator validator;
    private final LeaseExpiry leaseExpiry;
    private final QueryAnswers answers;
    private final AppliedChanges changes;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

    /** Written by the apply thread only. */
    private final ApplyTimings applyTimings = new ApplyTimings();

    /** Incremented by Ratis's thread that reports a new leader. */
    private final AtomicLong leaderChanges = new AtomicLong();

    private volatile MvccStore store = new MvccStore();
    private volatile Applier applier;

    /** Entries applied past the latest snapshot after which Ratis asks for the next one. */
    private final long snapshotThreshold;

    /** Snapshots the admin API asked for that {@link #takeSnapshot} has not taken yet. */
    private final AtomicInteger requestedSnapshots = new AtomicInteger();

    /**
     * The snapshot its own thread is writing, or null. Set and cleared by the apply thread; a pause
     * or a close (other threads) waits for it.
     */
    private volatile Writing writing;

    /** The state to start from when there is no snapshot yet (see {@link Backup}). */
    private final Path seed;

    /** Completed, once, with the first failure Ratis reports from writing the log. */
    private final CompletableFuture<Throwable> logFailure;

    /** Reads waiting for the apply thread to reach a log index; guarded by itself. */
    private final NavigableMap<Long, CompletableFuture<Void>> appliedWaiters = new TreeMap<>();

    /**
     * @param proposer submits a command to the log (used by lease expiry)
     * @param leaseExecutor the one thread that owns lease countdowns
     * @param changes told of every published revision and of every store installed (the watch hub)
     * @param snapshotThreshold the entries applied past the latest snapshot after which Ratis asks
     *     for the next one (Ratis's auto-trigger threshold): such a snapshot is written in the
     *     background
     * @param logFailure completed with the cause when Ratis cannot write the log
     */
    KeyspaceStateMachine(
            String nodeId,
            CommandValidator validator,
            ScheduledExecutorService leaseExecutor,
            Clock clock,
            Duration leaseCheckInterval,
            Function<Command, CompletableFuture<?>> proposer,
            AppliedChanges changes,
            Path seed,
            long snapshotThreshold,
            CompletableFuture<Throwable> logFailure) {
        this.nodeId = nodeId;
        this.snapshotThreshold = snapshotThreshold;
        this.logFailure = logFailure;
        this.seed = seed;
        this.validator = validator;
        this.leaseExpiry =
                new LeaseExpiry(
                        nodeId,
                        leaseExecutor,
                        clock,
                        leaseCheckInterval,
                        () -> store.leaseTable(),
                        proposer);
        this.answers = new QueryAnswers(validator, leaseExpiry);
        this.changes = changes;
        this.applier = new Applier(store, leaseExpiry, changes);
        changes.storeInstalled(store);
    }

    LeaseExpiry leaseExpiry() {
        return leaseExpiry;
    }

    /**
     * Completes once this replica has applied the log up to {@code index}. It completes on the
     * apply thread: callers move their work elsewhere. Any thread.
     */
    CompletableFuture<Void> appliedUpTo(long index) {
        synchronized (appliedWaiters) {
            if (getLastAppliedTermIndex().getIndex() >= index) {
                return CompletableFuture.completedFuture(null);
            }
            return appliedWaiters.computeIfAbsent(index, i -> new CompletableFuture<>());
        }
    }

    /**
     * Every entry Ratis applies, ours or its own (configuration, leader's first entry), comes here.
     */
    @Override
    protected boolean updateLastAppliedTermIndex(TermIndex applied) {
        boolean moved = super.updateLastAppliedTermIndex(applied);
        releaseWaitersUpTo(applied.getIndex());
        return moved;
    }

    private void releaseWaitersUpTo(long index) {
        List<CompletableFuture<Void>> ready;
        synchronized (appliedWaiters) {
            NavigableMap<Long, CompletableFuture<Void>> reached =
                    appliedWaiters.headMap(index, true);
            if (reached.isEmpty()) {
                return;
            }
            ready = new ArrayList<>(reached.values());
            reached.clear();
        }
        ready.forEach(waiter -> waiter.complete(null));
    }

    /** The store readers see now; any thread. */
    MvccStore store() {
        return store;
    }

    /** Apply latency by kind of command; any thread. */
    List<MemberStats.Latency> applyLatency() {
        return applyTimings.read();
    }

    /** How often Ratis reported a new leader (never a lost one); any thread. */
    long leaderChanges() {
        return leaderChanges.get();
    }

    /** This replica's auth state, as applied so far; any thread. */
    AuthState auth() {
        return store.auth();
    }

    /** This replica's member records, as applied so far; any thread. */
    List<MemberRecord> members() {
        return store.members();
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
            throws IOException {
        getLifeCycle()
                .startAndTransition(
                        () -> {
                            super.initialize(server, groupId, raftStorage);
                            storage.init(raftStorage);
                            deleteTemporaryFiles();
                            SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
                            if (latest == null && Files.exists(seed)) {
                                install(Backup.readSeed(seed));
                                LOG.info(
                                        "[{}] started from the restored backup {} (revision {},"
                                                + " {} keys)",
                                        nodeId,
                                        seed,
                                        store.revision(),
                                        store.keyCount());
                            }
                            load(latest);
                        });
    }

    @Override
    public void pause() {
        // The installed snapshot is then the only file Ratis's storage is changing.
        awaitWriting();
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public void reinitialize() throws IOException {
        load(storage.loadLatestSnapshot());
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public void close() throws IOException {
        awaitWriting();
        super.close();
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** Refuses a malformed command on the leader before it is appended to the log. */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        TransactionContext transaction = super.startTransaction(request);
        try {
            validator.validate(
                    Command.parseFrom(request.getMessage().getContent().asReadOnlyByteBuffer()));
        } catch (InvalidProtocolBufferException e) {
            transaction.setException(
                    new InvalidCommandException(
                            InvalidCommandException.Reason.MALFORMED,
                            "command does not decode: " + e.getMessage()));
        } catch (InvalidCommandException e) {
            transaction.setException(e);
        }
        return transaction;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
        LogEntryProto entry = transaction.getLogEntry();
        ByteString data = entry.getStateMachineLogEntry().getLogData();
        long started = System.nanoTime();
        Command.CommandCase kind = Command.CommandCase.COMMAND_NOT_SET;
        CommandResult result;
        try {
            Command command = Command.parseFrom(data.asReadOnlyByteBuffer());
            kind = command.getCommandCase();
            result = applier.apply(command, entry.getIndex());
        } catch (InvalidProtocolBufferException e) {
            // Validation keeps this out of the log; should it happen, every replica answers alike.
            result =
                    CommandResult.newBuilder()
                            .setRevision(store.revision())
                            .setFailure(
                                    Failure.newBuilder()
                                            .setCode(Failure.Code.INVALID)
                                            .setMessage(
                                                    "log entry "
                                                            + entry.getIndex()
                                                            + " does not decode as a command"))
                            .build();
        }
        applyTimings.record(kind, System.nanoTime() - started);
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(toMessage(result.toByteArray()));
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        Query query;
        try {
            query = Query.parseFrom(request.getContent().asReadOnlyByteBuffer());
        } catch (InvalidProtocolBufferException e) {
            return CompletableFuture.completedFuture(
                    toMessage(
                            QueryAnswers.failure(
                                            Failure.Code.INVALID,
                                            "query does not decode: " + e.getMessage())
                                    .toByteArray()));
        }
        return answer(query).thenApply(result -> toMessage(result.toByteArray()));
    }

    /** Answers {@code query} from this replica's applied state, whatever its role. */
    CompletableFuture<QueryResult> answer(Query query) {
        return answers.answer(store, query);
    }

    /** Whole-state fingerprint of the current store; see {@link MvccStore#digest}. */
    StateDigest digest() {
        return store.digest();
    }

    /**
     * etcd's HashKV of this replica's applied history; see {@link MvccStore#hashKv}. Any thread.
     */
    KvHash hashKv(long revision) {
        return store.hashKv(revision);
    }

    /**
     * Ratis's log writer failed (typically no space left on the device). Ratis fails every later
     * write of this log too, while the server stays up: a leader would go on sending heartbeats
     * without ever committing, so the member must stop (see {@link RaftNode#logFailure}). Called on
     * Ratis's log worker thread.
     */
    @Override
    public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
        LOG.error(
                "[{}] the Raft log cannot be written{}: {}",
                nodeId,
                failedEntry == null ? "" : " (entry " + failedEntry.getIndex() + ")",
                cause.toString());
        logFailure.complete(cause);
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        leaderChanges.incrementAndGet();
        leaseExpiry.leaderChanged(groupMemberId.getPeerId().equals(newLeaderId));
    }

    /**
     * Ratis calls this on the apply thread once {@code snapshotThreshold} entries were applied past
     * the latest snapshot, when it stops, and when the admin API asks for one. The automatic case
     * takes an image of the store here (references only: 20 to 60 ms for 100,000 keys) and writes
     * it on a thread of its own, so applying goes on meanwhile (writing 100,000 keys took 0.7 to
     * 1.5 s, all of it a stall when done here); until it is on disk this answers "no new snapshot",
     * and Ratis asks again after the next entries and purges its log only once it hears the index.
     * A snapshot asked for (admin API, stop) is written before this returns, so its index is that
     * of the last entry applied.
     */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last.getIndex() < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        boolean requested = requestedSnapshots.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        Writing pending = writing;
        if (pending != null) {
            if (!pending.done().isDone() && !requested) {
                return RaftLog.INVALID_LOG_INDEX;
            }
            writing = null;
            await(pending);
            if (!requested) {
                return pending.at().getIndex();
            }
        }
        SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
        long covered = latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
        SnapshotCodec.Image image = new SnapshotCodec.Image(store);
        if (!requested && last.getIndex() - covered >= snapshotThreshold) {
            writing =
                    new Writing(
                            last,
                            NamedThreads.runOnce(
                                    "capstan-snapshot-" + nodeId,
                                    () -> {
                                        try {
                                            writeSnapshot(image, last);
                                        } catch (IOException e) {
                                            throw new UncheckedIOException(e);
                                        }
                                    }));
            return RaftLog.INVALID_LOG_INDEX;
        }
        writeSnapshot(image, last);
        return last.getIndex();
    }

    /** Called by the admin API before it asks Ratis for a snapshot: that one is written at once. */
    void snapshotRequested() {
        requestedSnapshots.incrementAndGet();
    }

    /** A snapshot written by its own thread: the entry it covers, and its end. */
    private record Writing(TermIndex at, CompletableFuture<Void> done) {}

    /** Waits for a snapshot being written, if any; for a pause or a close. */
    private void awaitWriting() {
        Writing pending = writing;
        if (pending != null) {
            try {
                await(pending);
            } catch (IOException e) {
                LOG.warn("[{}] {}", nodeId, e.getMessage());
            }
        }
    }

    private static void await(Writing pending) throws IOException {
        try {
            pending.done().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof IOException io
                    ? io
                    : new IOException("snapshot at " + pending.at() + " failed", e.getCause());
        }
    }

    /** Any thread: writes {@code image}, the state after {@code at}, as the latest snapshot. */
    private void writeSnapshot(SnapshotCodec.Image image, TermIndex at) throws IOException {
        long started = System.nanoTime();
        File target = storage.getSnapshotFile(at.getTerm(), at.getIndex());
        Path temp = target.toPath().resolveSibling(target.getName() + TEMP_SUFFIX);
        try (FileChannel channel =
                FileChannel.open(
                        temp,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
            SnapshotCodec.write(image, out);
            out.flush();
            channel.force(true);
        } catch (IOException e) {
            // A full disk: give back what the partial file took; the log still holds everything.
            Files.deleteIfExists(temp);
            throw new IOException("cannot write snapshot " + target + ": " + e.getMessage(), e);
        }
        Files.move(temp, target.toPath(), StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(target.toPath().getParent());
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
        storage.updateLatestSnapshot(
                new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), at));
        LOG.info(
                "[{}] snapshot at {} (revision {}, {} keys) written in {} ms; taking its image held"
                        + " applying up {} ms",
                nodeId,
                at,
                image.revision(),
                image.keyCount(),
                (System.nanoTime() - started) / 1_000_000,
                image.takingNanos() / 1_000_000);
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            return;
        }
        Path file = snapshot.getFile().getPath();
        MD5Hash md5 = snapshot.getFile().getFileDigest();
        if (md5 != null) {
            MD5FileUtil.verifySavedMD5(file.toFile(), md5);
        }
        MvccStore loaded;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            loaded = SnapshotCodec.read(in);
        } catch (IOException e) {
            throw new IOException("cannot load snapshot " + file + ": " + e.getMessage(), e);
        }
        install(loaded);
        setLastAppliedTermIndex(snapshot.getTermIndex());
        releaseWaitersUpTo(snapshot.getIndex());
        LOG.info(
                "[{}] loaded snapshot {} (revision {}, {} keys)",
                nodeId,
                snapshot.getTermIndex(),
                loaded.revision(),
                loaded.keyCount());
    }

    private void install(MvccStore loaded) {
        store = loaded;
        applier = new Applier(loaded, leaseExpiry, changes);
        changes.storeInstalled(loaded);
    }

    private void deleteTemporaryFiles() throws IOException {
        File dir = storage.getSnapshotFile(0, 0).getParentFile();
        if (dir == null || !dir.isDirectory()) {
            return;
        }
        try (DirectoryStream<Path> temps =
                Files.newDirectoryStream(dir.toPath(), "snapshot.*" + TEMP_SUFFIX)) {
            for (Path temp : temps) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static Message toMessage(byte[] bytes) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
    }
}
