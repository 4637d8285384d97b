package io.capstan.raft;

import com.google.protobuf.InvalidProtocolBufferException;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;

import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One member of the Capstan Raft group: a Ratis server running the keyspace state machine, and a
 * Ratis client through which this member forwards writes to the leader, so any member serves
 * any request.
 *
 * <p><b>States</b>: NEW, then STARTING on {@link #start()}; RUNNING when the server listens
 * (it need not have a leader yet: see {@link NodeStatus#serving()}), or FAILED if it could not
 * start (whatever had started is closed). {@link #stop()} moves RUNNING or FAILED to STOPPING and
 * then STOPPED; calling it again returns the same future. A node is not restarted: build a new
 * one on the same data directory, which recovers from its snapshot and log.
 *
 * <p><b>Threads</b>: public methods are safe from any thread. Start and stop each run on a thread
 * of their own; lease countdowns live on one scheduler thread owned by this node; Ratis runs the
 * state machine's apply thread; the watch hub has one thread of its own and delivers to listeners
 * on a pool of delivery threads (see {@link #watch}).
 *
 * <p><b>Writes</b> ({@link #propose}) are validated here, then replicated and applied; the future
 * completes once a quorum has the entry durably and the leader applied it. <b>Reads</b>
 * ({@link #query}) are linearizable through Ratis ReadIndex, or serializable from local state.
 * Failures arrive as the future's exception: {@link InvalidCommandException} (refused before
 * proposing), {@link KeyspaceException} (refused by the state, e.g. compacted revision), or a Ratis
 * exception or a {@link java.util.concurrent.TimeoutException} (no leader in time, node stopped).
 *
 * <p><b>Watches</b> ({@link #watch}) are fed by this member's own apply thread, whichever member
 * leads; stopping the node ends them with {@link WatchCanceled.Cause#STOPPED}.
 */
public final class RaftNode {
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
    private final RaftGroup group;
    private final ClientId adminClientId = ClientId.randomId();
    private final AtomicLong adminCallId = new AtomicLong();
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final ScheduledExecutorService leaseExecutor;
    private final ExecutorService watchDelivery;

    private volatile RaftServer server;
    private volatile RaftClient client;
    private volatile KeyspaceStateMachine stateMachine;
    private volatile WatchHub watchHub;
    private volatile WatchDriver watchDriver;

    /**
     * @param clock the leader's lease countdowns read it (never the apply path)
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
        this.group = RaftGroup.valueOf(RaftGroupId.valueOf(settings.groupId()), peers);
        this.leaseExecutor =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "capstan-lease-" + settings.nodeId());
                            t.setDaemon(true);
                            return t;
                        });
        AtomicInteger deliveryThreads = new AtomicInteger();
        // Grows with the listeners busy at once, at most one per watch (so at most max-watches).
        this.watchDelivery =
                Executors.newCachedThreadPool(
                        r -> {
                            Thread t =
                                    new Thread(
                                            r,
                                            "capstan-watch-delivery-"
                                                    + settings.nodeId()
                                                    + "-"
                                                    + deliveryThreads.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
    }

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
        runOnOwnThread(
                        "start",
                        () -> {
                            try {
                                doStart();
                                state.set(State.RUNNING);
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

    private void doStart() throws IOException {
        Files.createDirectories(settings.dataDir());
        RaftProperties properties = RatisConfig.properties(settings);
        Parameters parameters = new Parameters();
        transport.configure(settings.self(), properties, parameters);
        WatchHub hub = new WatchHub(nodeId(), settings.watch(), clock, watchDelivery);
        KeyspaceStateMachine machine =
                new KeyspaceStateMachine(
                        nodeId(),
                        validator,
                        leaseExecutor,
                        clock,
                        settings.leaseCheckInterval(),
                        this::submit,
                        hub);
        stateMachine = machine;
        watchHub = hub;
        WatchDriver driver = new WatchDriver(hub);
        watchDriver = driver;
        driver.start();
        server =
                RaftServer.newBuilder()
                        .setServerId(selfId)
                        .setGroup(group)
                        .setStateMachine(machine)
                        .setProperties(properties)
                        .setParameters(parameters)
                        .setOption(RaftStorage.StartupOption.RECOVER)
                        .build();
        server.start();
        long sleepMillis = 100;
        int attempts = (int) Math.max(10, settings.requestTimeout().toMillis() * 2 / sleepMillis);
        client =
                RaftClient.newBuilder()
                        .setProperties(properties)
                        .setParameters(parameters)
                        .setRaftGroup(group)
                        .setClientId(ClientId.randomId())
                        .setRetryPolicy(
                                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                                        attempts,
                                        TimeDuration.valueOf(sleepMillis, TimeUnit.MILLISECONDS)))
                        .build();
        machine.leaseExpiry().start();
    }

    /** Stops the server and client; idempotent. While starting, it waits for the start to end first. */
    public CompletableFuture<Void> stop() {
        State current = state.get();
        if (current == State.STARTING) {
            return started.handle((v, e) -> null).thenCompose(v -> stop());
        }
        while (current == State.NEW || current == State.RUNNING || current == State.FAILED) {
            if (state.compareAndSet(current, State.STOPPING)) {
                runOnOwnThread(
                                "stop",
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
        leaseExecutor.shutdownNow();
        RaftClient c = client;
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("[{}] closing raft client: {}", nodeId(), e.toString());
            }
        }
        RaftServer s = server;
        if (s != null) {
            try {
                s.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("[{}] closing raft server: {}", nodeId(), e.toString());
            }
        }
        WatchDriver driver = watchDriver;
        if (driver != null) {
            driver.stop("member " + nodeId() + " is stopping", settings.requestTimeout());
        }
        // Lets queued deliveries finish, so every listener hears that its watch ended.
        watchDelivery.shutdown();
    }

    /**
     * Validates {@code command} and replicates it through the leader.
     *
     * @return the result once applied; a transaction whose compares failed is a result with
     *     {@code succeeded = false}, not an exception
     */
    public CompletableFuture<CommandResult> propose(Command command) {
        try {
            validator.validate(command);
        } catch (InvalidCommandException e) {
            return CompletableFuture.failedFuture(e);
        }
        return submit(command);
    }

    private CompletableFuture<CommandResult> submit(Command command) {
        RaftClient c = runningClient();
        if (c == null) {
            return notRunning();
        }
        return bounded(c.async().send(toMessage(command.toByteArray())))
                .thenApply(
                        reply -> {
                            CommandResult result = decode(reply, CommandResult::parseFrom);
                            if (result.hasFailure()) {
                                throw new CompletionException(
                                        new KeyspaceException(result.getFailure()));
                            }
                            return result;
                        });
    }

    /**
     * Runs a read-only query. Linearizable range reads go through ReadIndex on this member;
     * linearizable lease queries are answered by the leader, which keeps the countdowns.
     */
    public CompletableFuture<QueryResult> query(Query query, ReadConsistency consistency) {
        try {
            validator.validate(query);
        } catch (InvalidCommandException e) {
            return CompletableFuture.failedFuture(e);
        }
        KeyspaceStateMachine machine = stateMachine;
        RaftClient c = runningClient();
        if (c == null || machine == null) {
            return notRunning();
        }
        CompletableFuture<QueryResult> answer;
        if (consistency == ReadConsistency.SERIALIZABLE) {
            answer = machine.answer(query);
        } else {
            Message message = toMessage(query.toByteArray());
            // Unordered: an ordered read aimed at one server shares the client's ordered stream
            // with
            // writes to the leader, and the two sequence windows stall each other on that stream.
            CompletableFuture<RaftClientReply> reply =
                    query.hasRange()
                            ? c.async().sendReadOnlyUnordered(message, selfId)
                            : c.async().sendReadOnlyUnordered(message);
            answer = bounded(reply).thenApply(r -> decode(r, QueryResult::parseFrom));
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
    public Watch watch(WatchSpec spec, WatchListener listener) {
        Objects.requireNonNull(listener, "listener");
        validator.validate(spec);
        WatchHub hub = watchHub;
        if (state.get() != State.RUNNING || hub == null) {
            throw new IllegalStateException(
                    "node " + nodeId() + " is " + state.get() + ", not RUNNING");
        }
        return hub.watch(spec, listener);
    }

    /** Takes a snapshot of this member's state now; completes with its log index. */
    public CompletableFuture<Long> takeSnapshot() {
        RaftServer s = server;
        if (runningClient() == null || s == null) {
            return notRunning();
        }
        SnapshotManagementRequest request =
                SnapshotManagementRequest.newCreate(
                        adminClientId,
                        selfId,
                        group.getGroupId(),
                        adminCallId.incrementAndGet(),
                        settings.requestTimeout().toMillis(),
                        1);
        return s.snapshotManagementAsync(request)
                .thenApply(
                        reply -> {
                            if (!reply.isSuccess()) {
                                throw new CompletionException(reply.getException());
                            }
                            return reply.getLogIndex();
                        });
    }

    /** A fingerprint of this member's applied state; see {@link StateDigest}. */
    public StateDigest stateDigest() {
        KeyspaceStateMachine machine = stateMachine;
        if (machine == null) {
            throw new IllegalStateException("node " + nodeId() + " has not started");
        }
        return machine.digest();
    }

    public NodeStatus status() {
        RaftServer s = server;
        if (state.get() != State.RUNNING || s == null) {
            return new NodeStatus(nodeId(), NodeStatus.Role.STOPPED, 0, Optional.empty(), 0, 0);
        }
        try {
            RaftServer.Division division = s.getDivision(group.getGroupId());
            NodeStatus.Role role =
                    switch (division.getInfo().getCurrentRole()) {
                        case LEADER -> NodeStatus.Role.LEADER;
                        case CANDIDATE -> NodeStatus.Role.CANDIDATE;
                        case FOLLOWER -> NodeStatus.Role.FOLLOWER;
                        case LISTENER -> NodeStatus.Role.LISTENER;
                        default -> NodeStatus.Role.STOPPED;
                    };
            return new NodeStatus(
                    nodeId(),
                    role,
                    division.getInfo().getCurrentTerm(),
                    Optional.ofNullable(division.getInfo().getLeaderId()).map(RaftPeerId::toString),
                    division.getRaftLog().getLastCommittedIndex(),
                    division.getInfo().getLastAppliedIndex());
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

    private RaftClient runningClient() {
        return state.get() == State.RUNNING ? client : null;
    }

    private <T> CompletableFuture<T> notRunning() {
        return CompletableFuture.failedFuture(
                new IllegalStateException(
                        "node " + nodeId() + " is " + state.get() + ", not RUNNING"));
    }

    private interface Parser<T> {
        T parse(java.nio.ByteBuffer bytes) throws InvalidProtocolBufferException;
    }

    private static <T> T decode(RaftClientReply reply, Parser<T> parser) {
        if (!reply.isSuccess()) {
            throw new CompletionException(reply.getException());
        }
        try {
            return parser.parse(reply.getMessage().getContent().asReadOnlyByteBuffer());
        } catch (InvalidProtocolBufferException e) {
            throw new CompletionException(
                    new IOException("reply does not decode: " + e.getMessage(), e));
        }
    }

    private static Message toMessage(byte[] bytes) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
    }

    private CompletableFuture<Void> runOnOwnThread(String what, Runnable task) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread =
                new Thread(
                        () -> {
                            try {
                                task.run();
                                done.complete(null);
                            } catch (RuntimeException e) {
                                done.completeExceptionally(
                                        e instanceof UncheckedIOException u ? u.getCause() : e);
                            }
                        },
                        "capstan-raft-" + what + "-" + nodeId());
        thread.start();
        return done;
    }
}
