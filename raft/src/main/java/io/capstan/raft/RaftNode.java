package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RangeRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of the Capstan Raft group: a Ratis server running the keyspace state machine, and a
 * Ratis client through which this member forwards writes to the leader, so any member serves any
 * request.
 *
 * <p><b>States</b>: NEW, then STARTING on {@link #start()}; RUNNING when the server listens (it
 * need not have a leader yet: see {@link NodeStatus#caughtUp()}), or FAILED if it could not start
 * (whatever had started is closed). {@link #stop()} moves RUNNING or FAILED to STOPPING and then
 * STOPPED; calling it again returns the same future. A node is not restarted: build a new one on
 * the same data directory, which recovers from its snapshot and log.
 *
 * <p><b>Threads</b>: public methods are safe from any thread. Start and stop each run on a thread
 * of their own; lease countdowns live on one scheduler thread owned by this node; Ratis runs the
 * state machine's apply thread; the watch hub has one thread of its own and delivers to listeners
 * on a pool of delivery threads (see {@link #watch}); one membership thread runs the steps of
 * joining, publishing this member and every configuration change (see {@link Membership}), and each
 * configuration change waits for Ratis on a short-lived thread of its own.
 *
 * <p><b>Writes</b> ({@link #propose}) are validated here, then replicated and applied; the future
 * completes once a quorum has the entry durably and the leader applied it. <b>Reads</b> ({@link
 * #query}) are linearizable (see {@link ReadBarrier} and {@link ReadRounds}), or serializable from
 * local state. Failures arrive as the future's exception: {@link InvalidCommandException} (refused
 * before proposing), {@link KeyspaceException} (refused by the state, e.g. compacted revision), or
 * a Ratis exception or a {@link java.util.concurrent.TimeoutException} (no leader in time, node
 * stopped).
 *
 * <p><b>Watches</b> ({@link #watch}) are fed by this member's own apply thread, whichever member
 * leads; stopping the node ends them with {@link WatchCanceled.Cause#STOPPED}.
 *
 * <p>What an API needs of a member is {@link KeyspaceNode}; the administration of its cluster
 * (membership, leadership, snapshots) is {@link #admin()}, and its metrics {@link #stats()}.
 */
public final class RaftNode implements KeyspaceNode {
    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

    private enum State {
        NEW,
        STARTING,
        RUNNING,
        FAILED,
        STOPPING,
        STOPPED
    }

    private final RaftSettings settings;
    private final TransportBinding transport;
    private final Clock clock;
    private final CommandValidator validator;
    private final RaftPeerId selfId;

    /** The group the server starts with; the client's, {@link #peersGroup}, always lists peers. */
    private final RaftGroup group;

    private final RaftGroup peersGroup;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final CompletableFuture<Throwable> logFailure = new CompletableFuture<>();
    private final NodeThreads threads;

    private final Membership membership;
    private final RaftAdmin admin;

    /** Proposals made and failed (see {@link MemberStats}); any thread adds. */
    private final LongAdder proposals = new LongAdder();

    private final LongAdder failedProposals = new LongAdder();

    /** Null until a start succeeded; kept after the stop. */
    private volatile RunningParts parts;

    /**
     * @param clock the leader's lease countdowns and the watch progress ticks read it (never the
     *     apply path); it must not step with the wall clock (a step would end leases early or
     *     extend them), as a clock driven by {@link System#nanoTime()} does not
     */
    public RaftNode(RaftSettings settings, TransportBinding transport, Clock clock) {
        this.settings = settings;
        this.transport = transport;
        this.clock = clock;
        this.validator = new CommandValidator(settings.limits());
        this.selfId = RaftPeerId.valueOf(settings.nodeId());
        List<RaftPeer> peers =
                settings.peers().stream()
                        .map(
                                p ->
                                        RaftPeer.newBuilder()
                                                .setId(p.id())
                                                .setAddress(p.address())
                                                .build())
                        .toList();
        RaftGroupId groupId = RaftGroupId.valueOf(settings.groupId());
        this.peersGroup = RaftGroup.valueOf(groupId, peers);
        // A member joining a running cluster starts with an empty group, outside the configuration
        // (Ratis keeps it initializing, with no elections) until the leader adds it; see
        // Membership.
        this.group = settings.joinExisting() ? RaftGroup.valueOf(groupId) : peersGroup;
        this.threads = new NodeThreads(settings.nodeId());
        this.membership =
                new Membership(
                        settings,
                        StepQueue.Scheduler.on(threads.membership),
                        new MembershipAccess());
        this.admin = new RaftAdmin(this, membership, selfId, groupId, settings.requestTimeout());
    }

    @Override
    public String nodeId() {
        return settings.nodeId();
    }

    /** Starts the server; completes when it listens, exceptionally if it cannot start. */
    public CompletableFuture<Void> start() {
        if (!state.compareAndSet(State.NEW, State.STARTING)) {
            return CompletableFuture.failedFuture(
                    new IllegalStateException(
                            "node " + nodeId() + " cannot start from " + state.get()));
        }
        NamedThreads.runOnce(
                        "capstan-raft-start-" + nodeId(),
                        () -> {
                            try {
                                parts =
                                        RunningParts.start(
                                                settings,
                                                transport,
                                                clock,
                                                validator,
                                                group,
                                                peersGroup,
                                                threads,
                                                this::submit,
                                                logFailure);
                                state.set(State.RUNNING);
                                // Joining needs a running node: it stops when the node stops.
                                if (settings.joinExisting()) {
                                    membership.join();
                                }
                                LOG.info(
                                        "[{}] raft member started in group {}",
                                        nodeId(),
                                        settings.groupId());
                            } catch (IOException | RuntimeException e) {
                                state.set(State.FAILED);
                                LOG.error(
                                        "[{}] raft member failed to start: {}",
                                        nodeId(),
                                        e.toString());
                                closeQuietly();
                                throw e instanceof IOException io
                                        ? new UncheckedIOException(io)
                                        : (RuntimeException) e;
                            }
                        })
                .whenComplete(
                        (v, e) -> {
                            if (e == null) {
                                started.complete(null);
                            } else {
                                started.completeExceptionally(e);
                            }
                        });
        return started.copy();
    }

    private RaftGroupId groupId() {
        return group.getGroupId();
    }

    /**
     * Completes with the cause once Ratis could not write this member's Raft log (a full or failing
     * disk): from then on the member can neither append nor commit, so it must stop. Never
     * completes otherwise. Any thread.
     */
    public CompletableFuture<Throwable> logFailure() {
        return logFailure.copy();
    }

    /**
     * Stops the server and client; idempotent. While starting, it waits for the start to end first.
     */
    public CompletableFuture<Void> stop() {
        State current = state.get();
        if (current == State.STARTING) {
            return started.handle((v, e) -> null).thenCompose(v -> stop());
        }
        while (current == State.NEW || current == State.RUNNING || current == State.FAILED) {
            if (state.compareAndSet(current, State.STOPPING)) {
                NamedThreads.runOnce(
                                "capstan-raft-stop-" + nodeId(),
                                () -> {
                                    closeQuietly();
                                    state.set(State.STOPPED);
                                    LOG.info("[{}] raft member stopped", nodeId());
                                })
                        .whenComplete((v, e) -> stopped.complete(null));
                return stopped.copy();
            }
            current = state.get();
        }
        return stopped.copy();
    }

    private void closeQuietly() {
        threads.lease.shutdownNow();
        // Fails every membership operation not done, then lets the membership thread end.
        membership.stop();
        threads.membership.shutdown();
        threads.requests.shutdownNow();
        threads.reads.shutdown();
        RunningParts p = parts;
        if (p != null) {
            p.close(settings);
        }
        // Lets queued deliveries finish, so every listener hears that its watch ended.
        threads.watchDelivery.shutdown();
    }

    /**
     * Validates {@code command} and replicates it through the leader.
     *
     * @return the result once applied; a transaction whose compares failed is a result with {@code
     *     succeeded = false}, not an exception
     */
    @Override
    public CompletableFuture<CommandResult> propose(Command command) {
        try {
            validator.validate(command);
        } catch (InvalidCommandException e) {
            return CompletableFuture.failedFuture(e);
        }
        return submit(command);
    }

    private CompletableFuture<CommandResult> submit(Command command) {
        RunningParts p = running();
        if (p == null) {
            return notRunning();
        }
        proposals.increment();
        return bounded(p.requests.write(RaftRequests.message(command.toByteArray())))
                .thenApply(
                        reply -> {
                            CommandResult result =
                                    RaftRequests.decode(reply, CommandResult::parseFrom);
                            if (result.hasFailure()) {
                                throw new CompletionException(
                                        new KeyspaceException(result.getFailure()));
                            }
                            return result;
                        })
                .whenComplete(
                        (result, error) -> {
                            // A state's refusal was applied like any command.
                            Throwable cause =
                                    error instanceof CompletionException && error.getCause() != null
                                            ? error.getCause()
                                            : error;
                            if (cause != null && !(cause instanceof KeyspaceException)) {
                                failedProposals.increment();
                            }
                        });
    }

    /**
     * Runs a read-only query. Linearizable range reads share read rounds on this member;
     * linearizable lease queries are answered by the leader, which keeps the countdowns.
     */
    @Override
    public CompletableFuture<QueryResult> query(Query query, ReadConsistency consistency) {
        try {
            validator.validate(query);
        } catch (InvalidCommandException e) {
            return CompletableFuture.failedFuture(e);
        }
        RunningParts p = running();
        if (p == null) {
            return notRunning();
        }
        KeyspaceStateMachine machine = p.machine;
        CompletableFuture<QueryResult> answer;
        if (consistency == ReadConsistency.SERIALIZABLE) {
            answer = machine.answer(query);
        } else if (query.hasRange()) {
            // Concurrent range reads share read rounds; each is then answered here.
            answer =
                    bounded(p.readBarrier.await().copy())
                            .thenComposeAsync(applied -> machine.answer(query), threads.reads);
        } else {
            // Lease queries: the leader keeps the countdowns.
            answer =
                    bounded(
                                    p.requests.read(
                                            RaftRequests.message(query.toByteArray()),
                                            RaftRequests.Route.LEADER))
                            .thenApply(r -> RaftRequests.decode(r, QueryResult::parseFrom));
        }
        return answer.thenApply(
                result -> {
                    if (result.hasFailure()) {
                        throw new CompletionException(new KeyspaceException(result.getFailure()));
                    }
                    return result;
                });
    }

    /**
     * Watches this member's keyspace with etcd's Watch semantics: {@code listener} receives every
     * matching change from the spec's start revision on, revision by revision, exactly once and in
     * order (history first when the start revision is already applied, then live changes, with no
     * gap between them), progress notifications, and finally how the watch ended. The events are
     * this member's own applied revisions, so a write made through any member shows up here once
     * this member applied it, and an event's revision is readable here when it is reported.
     *
     * @throws InvalidCommandException when the key or range end breaks the limits
     * @throws IllegalStateException when the node is not running
     */
    @Override
    public Watch watch(WatchSpec spec, WatchListener listener) {
        Objects.requireNonNull(listener, "listener");
        validator.validate(spec);
        RunningParts p = running();
        if (p == null) {
            throw new IllegalStateException(
                    "node " + nodeId() + " is " + state.get() + ", not RUNNING");
        }
        return p.hub.watch(spec, listener);
    }

    /**
     * etcd's HashKV of this member's applied history up to {@code revision} (0: the latest), equal
     * on every member that applied that revision; see {@link KvHash}. CPU work on the calling
     * thread.
     *
     * @throws KeyspaceException COMPACTED or FUTURE_REVISION, as etcd refuses the revision
     * @throws IllegalStateException before the node started
     */
    @Override
    public KvHash hashKv(long revision) {
        KeyspaceStateMachine machine = machine();
        if (machine == null) {
            throw new IllegalStateException("node " + nodeId() + " has not started");
        }
        return machine.hashKv(revision);
    }

    /** A fingerprint of this member's applied state; see {@link StateDigest}. */
    @Override
    public StateDigest stateDigest() {
        KeyspaceStateMachine machine = machine();
        if (machine == null) {
            throw new IllegalStateException("node " + nodeId() + " has not started");
        }
        return machine.digest();
    }

    /** This member's latest applied revision, read at once; 0 before the node started. */
    @Override
    public long appliedRevision() {
        KeyspaceStateMachine machine = machine();
        return machine == null ? 0 : machine.store().revision();
    }

    /**
     * This member's auth state as applied so far (an empty one before the node started): for checks
     * that need no read barrier, such as a token's signature or a watch's permission.
     */
    @Override
    public AuthState auth() {
        KeyspaceStateMachine machine = machine();
        return machine == null ? AuthState.INITIAL : machine.auth();
    }

    /**
     * This member's auth state once it has applied everything committed when asked (a linearizable
     * read), or at once when serializable: what authentication reads users and the signing key
     * from.
     */
    @Override
    public CompletableFuture<AuthState> auth(ReadConsistency consistency) {
        RunningParts p = running();
        if (p == null) {
            return notRunning();
        }
        KeyspaceStateMachine machine = p.machine;
        if (consistency == ReadConsistency.SERIALIZABLE) {
            return CompletableFuture.completedFuture(machine.auth());
        }
        Query barrier =
                Query.newBuilder()
                        .setRange(
                                RangeRequest.newBuilder()
                                        .setKey(MvccStore.FROM_KEY)
                                        .setCountOnly(true))
                        .build();
        return query(barrier, ReadConsistency.LINEARIZABLE).thenApply(read -> machine.auth());
    }

    /**
     * Publishes this member's record, with the URLs it serves clients at, for the others to list;
     * completes once it is in the replicated state (retrying until then, after joining if it
     * joins).
     *
     * @throws IllegalArgumentException when a URL is not http(s)://host:port
     */
    public CompletableFuture<Void> publish(List<String> clientUrls) {
        clientUrls.forEach(MemberUrls::address);
        return running() == null ? notRunning() : membership.publish(List.copyOf(clientUrls));
    }

    /** This member's id, as the cluster knows it (see {@link Member#id()}). */
    @Override
    public long memberId() {
        return memberIdOf(nodeId());
    }

    /** The id of the member named {@code name}, from this member's applied state. */
    @Override
    public long memberIdOf(String name) {
        return parts == null
                ? Member.initialId(settings.groupId(), name)
                : membership.memberIdOf(name);
    }

    /** The name of started member {@code id}, from this member's applied state. */
    public Optional<String> memberName(long id) {
        if (parts == null) {
            return Optional.empty();
        }
        return membership.localView().stream()
                .filter(m -> m.id() == id && m.started())
                .map(Member::name)
                .findFirst();
    }

    /** What {@link Membership} may use of this node. */
    private final class MembershipAccess implements Membership.Node {
        @Override
        public RaftConfiguration configuration() throws IOException {
            return parts.server.getDivision(group.getGroupId()).getRaftConf();
        }

        @Override
        public List<MemberRecord> localRecords() {
            return parts.machine.members();
        }

        @Override
        public CompletableFuture<CommandResult> propose(Command command) {
            return RaftNode.this.propose(command);
        }

        @Override
        public CompletableFuture<QueryResult> linearizable(Query query) {
            return query(query, ReadConsistency.LINEARIZABLE);
        }

        @Override
        public Map<String, Long> commitIndices() throws IOException {
            Map<String, Long> indices = new HashMap<>();
            for (CommitInfoProto info :
                    parts.server.getDivision(group.getGroupId()).getCommitInfos()) {
                indices.put(
                        RaftPeerId.valueOf(info.getServer().getId()).toString(),
                        info.getCommitIndex());
            }
            return indices;
        }

        @Override
        public CompletableFuture<Void> setConfiguration(SetConfigurationRequest.Arguments change) {
            RunningParts p = running();
            if (p == null) {
                return notRunning();
            }
            RaftClient c = p.client;
            // Ratis's client has only a blocking call for this: it gets a thread of its own, so
            // the membership thread never waits.
            return NamedThreads.runOnce(
                    "capstan-raft-reconfigure-" + nodeId(),
                    () -> {
                        try {
                            RaftClientReply reply = c.admin().setConfiguration(change);
                            if (!reply.isSuccess()) {
                                throw reply.getException() != null
                                        ? reply.getException()
                                        : new IOException("configuration change failed: " + reply);
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
        }
    }

    /**
     * This member's counters and gauges for metrics, read without locks; zeros (and no snapshot)
     * before it started. Looks at the latest snapshot file on disk, so call it off I/O threads.
     */
    public MemberStats stats() {
        RunningParts p = parts;
        return p == null
                ? MemberStats.notStarted(proposals.sum(), failedProposals.sum())
                : MemberStats.read(p.machine, p.hub, proposals.sum(), failedProposals.sum());
    }

    /**
     * The administration of this member's cluster: membership, leadership, snapshots. Its calls
     * fail while this node is not running.
     */
    public MemberAdmin admin() {
        return admin;
    }

    /** The Ratis server while this node runs, else null. */
    RaftServer runningServer() {
        RunningParts p = running();
        return p == null ? null : p.server;
    }

    /** The latest snapshot this member took or installed, or null; null before it started. */
    SnapshotInfo latestSnapshot() {
        KeyspaceStateMachine machine = machine();
        return machine == null ? null : machine.getLatestSnapshot();
    }

    @Override
    public NodeStatus status() {
        RunningParts p = running();
        if (p == null) {
            return new NodeStatus(nodeId(), NodeStatus.Role.STOPPED, 0, Optional.empty(), 0, 0);
        }
        try {
            return NodeStatus.of(nodeId(), p.server.getDivision(group.getGroupId()));
        } catch (IOException e) {
            return new NodeStatus(nodeId(), NodeStatus.Role.STOPPED, 0, Optional.empty(), 0, 0);
        }
    }

    /**
     * Caps one call, retries included, at three request timeouts. A write that times out may still
     * commit later: its outcome is unknown, as with any consensus system.
     */
    private <T> CompletableFuture<T> bounded(CompletableFuture<T> call) {
        return call.orTimeout(settings.requestTimeout().toMillis() * 3, TimeUnit.MILLISECONDS);
    }

    /** This member's parts while it runs, else null. */
    private RunningParts running() {
        return state.get() == State.RUNNING ? parts : null;
    }

    /** Tells the state machine that the admin API asks Ratis for a snapshot now. */
    void snapshotRequested() {
        KeyspaceStateMachine machine = machine();
        if (machine != null) {
            machine.snapshotRequested();
        }
    }

    /** The state machine once started (still after the stop), else null. */
    private KeyspaceStateMachine machine() {
        RunningParts p = parts;
        return p == null ? null : p.machine;
    }

    <T> CompletableFuture<T> notRunning() {
        return CompletableFuture.failedFuture(
                new IllegalStateException(
                        "node " + nodeId() + " is " + state.get() + ", not RUNNING"));
    }
}
