package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;

/**
 * The in-memory twin of {@link RaftNode}: one member that is its whole cluster and always leads,
 * its keyspace applied by the same {@link Applier} to the same {@link MvccStore}, its queries
 * answered by the same {@link QueryAnswers}, its watches served by the same {@link WatchHub}, its
 * leases ended by the same {@link LeaseExpiry}, with no log, no Ratis and no disk. For tests of an
 * API that are not about replication: a command applies in microseconds instead of a log round.
 * Commands apply in the order they are proposed, each exactly once; a query sees every command
 * whose future completed before it was asked, as a linearizable read must.
 *
 * <p>Its {@link #admin()} is that of a one-member cluster: it lists this member and hands
 * leadership only to itself; it cannot add, remove, promote or update members, nor take snapshots,
 * and fails those calls with {@link UnsupportedOperationException}.
 *
 * <p>Threads and who owns what: one writer thread applies every command (it alone writes the store,
 * through the applier, and numbers the commands); readers read the store without locks, on their
 * own threads. The lease thread owns the countdowns; the hub thread ({@link WatchDriver}) owns the
 * registry of watches; delivery threads call the listeners. Every method may be called from any
 * thread.
 */
public final class LocalKeyspaceNode implements KeyspaceNode, AutoCloseable {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final RaftSettings settings;
    private final CommandValidator validator;
    private final MvccStore store = new MvccStore();
    private final ExecutorService writer;
    private final ScheduledExecutorService leaseThread;
    private final ExecutorService watchDelivery;
    private final WatchHub hub;
    private final WatchDriver driver;
    private final LeaseExpiry leaseExpiry;
    private final QueryAnswers answers;
    private final MemberAdmin admin = new SoleMemberAdmin();

    /** Written by the writer thread only. */
    private final Applier applier;

    /** The number of the last command applied; written by the writer thread only. */
    private volatile long appliedIndex;

    private volatile boolean running = true;

    private LocalKeyspaceNode(RaftSettings settings, Clock clock) {
        this.settings = settings;
        this.validator = new CommandValidator(settings.limits());
        String id = settings.nodeId();
        this.writer =
                Executors.newSingleThreadExecutor(
                        NamedThreads.numbered("capstan-local-apply-" + id));
        this.leaseThread =
                Executors.newSingleThreadScheduledExecutor(
                        NamedThreads.numbered("capstan-local-lease-" + id));
        this.watchDelivery =
                Executors.newCachedThreadPool(NamedThreads.numbered("capstan-local-watch-" + id));
        this.hub = new WatchHub(id, settings.watch(), clock, watchDelivery);
        this.driver = new WatchDriver(hub);
        this.leaseExpiry =
                new LeaseExpiry(
                        id,
                        leaseThread,
                        clock,
                        settings.leaseCheckInterval(),
                        store::leaseTable,
                        this::submit);
        this.answers = new QueryAnswers(validator, leaseExpiry);
        this.applier = new Applier(store, leaseExpiry, hub);
        hub.storeInstalled(store);
    }

    /**
     * Starts a member named and limited by {@code settings} (its peers, data directory and timeouts
     * other than the lease check interval are not used), leading at once.
     *
     * @param clock the lease countdowns and the watch progress ticks read it
     */
    public static LocalKeyspaceNode start(RaftSettings settings, Clock clock) {
        LocalKeyspaceNode node = new LocalKeyspaceNode(settings, clock);
        node.driver.start();
        node.leaseExpiry.start();
        node.leaseExpiry.leaderChanged(true);
        return node;
    }

    /** The administration of this one-member cluster (see the class comment). */
    public MemberAdmin admin() {
        return admin;
    }

    @Override
    public String nodeId() {
        return settings.nodeId();
    }

    @Override
    public long memberId() {
        return memberIdOf(nodeId());
    }

    @Override
    public long memberIdOf(String name) {
        return Member.initialId(settings.groupId(), name);
    }

    @Override
    public CompletableFuture<CommandResult> propose(Command command) {
        try {
            validator.validate(command);
        } catch (InvalidCommandException e) {
            return CompletableFuture.failedFuture(e);
        }
        return submit(command);
    }

    /** Applies {@code command}, validated or made by this member itself (a lease expiry). */
    private CompletableFuture<CommandResult> submit(Command command) {
        try {
            return CompletableFuture.supplyAsync(() -> apply(command), writer)
                    .thenApply(
                            result -> {
                                if (result.hasFailure()) {
                                    throw refused(result.getFailure());
                                }
                                return result;
                            });
        } catch (RejectedExecutionException e) {
            return notRunning();
        }
    }

    /** On the writer thread. */
    private CommandResult apply(Command command) {
        long index = appliedIndex + 1;
        CommandResult result = applier.apply(command, index);
        appliedIndex = index;
        return result;
    }

    @Override
    public CompletableFuture<QueryResult> query(Query query, ReadConsistency consistency) {
        try {
            validator.validate(query);
        } catch (InvalidCommandException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (!running) {
            return notRunning();
        }
        // Every command whose future completed is applied: both consistencies read the store now.
        return answers.answer(store, query)
                .thenApply(
                        result -> {
                            if (result.hasFailure()) {
                                throw refused(result.getFailure());
                            }
                            return result;
                        });
    }

    @Override
    public Watch watch(WatchSpec spec, WatchListener listener) {
        validator.validate(spec);
        if (!running) {
            throw new IllegalStateException("local member " + nodeId() + " is stopped");
        }
        return hub.watch(spec, listener);
    }

    @Override
    public AuthState auth() {
        return store.auth();
    }

    @Override
    public CompletableFuture<AuthState> auth(ReadConsistency consistency) {
        return running ? CompletableFuture.completedFuture(store.auth()) : notRunning();
    }

    @Override
    public long appliedRevision() {
        return store.revision();
    }

    @Override
    public NodeStatus status() {
        if (!running) {
            return new NodeStatus(nodeId(), NodeStatus.Role.STOPPED, 0, Optional.empty(), 0, 0);
        }
        long index = appliedIndex;
        return new NodeStatus(
                nodeId(), NodeStatus.Role.LEADER, 1, Optional.of(nodeId()), index, index);
    }

    @Override
    public KvHash hashKv(long revision) {
        return store.hashKv(revision);
    }

    @Override
    public StateDigest stateDigest() {
        return store.digest();
    }

    /**
     * Stops applying, fails later calls, and ends every watch with the reason; commands already
     * proposed are applied first. Idempotent.
     */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        leaseThread.shutdownNow();
        writer.shutdown();
        try {
            if (!writer.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                writer.shutdownNow();
            }
        } catch (InterruptedException e) {
            writer.shutdownNow();
            Thread.currentThread().interrupt();
        }
        driver.stop("member " + nodeId() + " is stopping", STOP_TIMEOUT);
        watchDelivery.shutdown();
    }

    /** A refusal by the state, as the futures of {@link RaftNode} report it. */
    private static CompletionException refused(Failure failure) {
        return new CompletionException(new KeyspaceException(failure));
    }

    private <T> CompletableFuture<T> notRunning() {
        return CompletableFuture.failedFuture(
                new IllegalStateException("local member " + nodeId() + " is stopped"));
    }

    /** A cluster of this one member. Stateless. */
    private final class SoleMemberAdmin implements MemberAdmin {
        @Override
        public CompletableFuture<List<Member>> members(ReadConsistency consistency) {
            Member self =
                    new Member(
                            memberId(),
                            nodeId(),
                            List.of("http://" + settings.self().address()),
                            List.of(),
                            false);
            return CompletableFuture.completedFuture(List.of(self));
        }

        @Override
        public CompletableFuture<Member> addMember(List<String> peerUrls, boolean learner) {
            return unsupported("add members");
        }

        @Override
        public CompletableFuture<List<Member>> removeMember(long id) {
            return unsupported("remove members");
        }

        @Override
        public CompletableFuture<Member> promoteMember(long id) {
            return unsupported("promote members");
        }

        @Override
        public CompletableFuture<List<Member>> updateMember(long id, List<String> peerUrls) {
            return unsupported("update members");
        }

        @Override
        public CompletableFuture<Void> transferLeadership(String target) {
            return target.equals(nodeId())
                    ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.failedFuture(
                            new TransferLeadershipException(
                                    target + " is not a voting member of this one-member cluster"));
        }

        @Override
        public CompletableFuture<Long> takeSnapshot() {
            return unsupported("take snapshots");
        }

        @Override
        public CompletableFuture<SnapshotExport> exportSnapshot() {
            return unsupported("export snapshots");
        }

        private <T> CompletableFuture<T> unsupported(String what) {
            return CompletableFuture.failedFuture(
                    new UnsupportedOperationException(
                            "a local member without Raft cannot " + what));
        }
    }
}
