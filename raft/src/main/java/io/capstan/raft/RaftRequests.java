package io.capstan.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.JavaUtils;

/**
 * Carries this member's own writes and reads into Raft: straight to its own Ratis division when it
 * leads (or when the read is answered here), else once over the transport to the leader it knows,
 * following a not-leader answer to the leader suggested in it.
 *
 * <p>It replaces a {@code RaftClient} on the data path. The client's ordered sliding window made
 * every write of the member wait in one sequence and sent even the leader's own writes through the
 * transport back to itself; here a write is one call into the division, and a forwarded one is one
 * message to the leader.
 *
 * <p>Each request keeps its call id across retries, so a retried write that was already applied is
 * answered from Ratis's retry cache instead of being applied twice. Retries (no leader yet, a
 * leader change, a peer that did not answer) wait {@link #RETRY_PAUSE} and stop at the deadline,
 * which fails the request with a {@link TimeoutIOException}: its outcome is then unknown, as with
 * any consensus system. A refusal Ratis means for the caller (e.g. {@link
 * ResourceUnavailableException} when the leader's queue is full) is not retried.
 *
 * <p>Threads: any thread may send, but not one that is completing a Ratis future: Ratis may
 * complete its futures while holding its own locks, and a submission waits for Ratis's client
 * executor, which may need them. So every reply is handed to {@code executor} before anything else
 * happens: the request's future completes there (its dependants run there, never inside Ratis), and
 * retries and redirects are sent from there, after a pause or at once. The call id counter is
 * atomic and the set of peers handed to the transport is concurrent; each request's own state is
 * touched by one attempt at a time.
 */
final class RaftRequests {

    /** Pause before retrying when there is no leader to send to or it could not be reached. */
    static final Duration RETRY_PAUSE = Duration.ofMillis(25);

    /** Suggested leaders one request follows without a pause. */
    private static final int MAX_REDIRECTS = 3;

    /** Where and how a request goes. */
    enum Route {
        /** To the leader: writes, and reads only the leader can answer. */
        LEADER,
        /** To this member: reads through ReadIndex here, which asks the leader itself. */
        HERE
    }

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final RaftPeerId self;
    private final RaftClientRpc transport;
    private final List<RaftPeer> configuredPeers;
    private final ScheduledExecutorService executor;
    private final long deadlineNanos;
    private final LongSupplier nanoTime;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final Set<RaftPeerId> known = ConcurrentHashMap.newKeySet();

    /**
     * @param transport the Raft client transport of this member, to reach the leader
     * @param configuredPeers the peers this member was configured with: asked in turn when it knows
     *     no leader (a member joining a running cluster knows none until it is added)
     * @param executor where replies are handled and retries sent; owned by the caller
     * @param deadline how long one request may take, retries included
     */
    RaftRequests(
            RaftServer server,
            RaftGroupId groupId,
            RaftClientRpc transport,
            Collection<RaftPeer> configuredPeers,
            ScheduledExecutorService executor,
            Duration deadline,
            LongSupplier nanoTime) {
        this.server = server;
        this.groupId = groupId;
        this.self = server.getId();
        this.transport = transport;
        this.configuredPeers = List.copyOf(configuredPeers);
        learn(this.configuredPeers);
        this.executor = executor;
        this.deadlineNanos = deadline.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Replicates {@code command}; completes with the leader's reply once it is applied there. */
    CompletableFuture<RaftClientReply> write(Message command) {
        return new Attempt(RaftClientRequest.writeRequestType(), command, Route.LEADER).start();
    }

    /**
     * Runs a linearizable read of {@code query} through ReadIndex on the member {@code route}
     * names; a {@link Route#HERE} read at a follower asks the leader for the index itself.
     */
    CompletableFuture<RaftClientReply> read(Message query, Route route) {
        return new Attempt(RaftClientRequest.readRequestType(), query, route).start();
    }

    /** One request and its retries; the target changes, the call id does not. */
    private final class Attempt {
        private final RaftClientRequest.Type type;
        private final Message message;
        private final Route route;
        private final long callId = callIds.incrementAndGet();
        private final long deadline = nanoTime.getAsLong() + deadlineNanos;
        private final CompletableFuture<RaftClientReply> result = new CompletableFuture<>();
        private volatile Throwable lastFailure;

        /**
         * Attempts made while no leader was known; picks the next peer to ask. One attempt runs at
         * a time, each started after the previous one ended, so no two threads race on it.
         */
        private int guesses;

        /**
         * Not-leader answers followed at once. Members that name each other while an election
         * settles are asked again only after a pause.
         */
        private int redirects;

        Attempt(RaftClientRequest.Type type, Message message, Route route) {
            this.type = type;
            this.message = message;
            this.route = route;
        }

        CompletableFuture<RaftClientReply> start() {
            send(target());
            return result;
        }

        /**
         * Where the next attempt goes: here, the known leader, or else one configured peer after
         * another, whose not-leader answer names the leader.
         */
        private RaftPeerId target() {
            if (route == Route.HERE) {
                return self;
            }
            RaftPeerId leader = leader();
            if (leader != null) {
                return leader;
            }
            List<RaftPeerId> others =
                    configuredPeers.stream()
                            .map(RaftPeer::getId)
                            .filter(id -> !id.equals(self))
                            .toList();
            return others.isEmpty() ? null : others.get(guesses++ % others.size());
        }

        private void send(RaftPeerId target) {
            if (target == null) {
                retryLater(null);
                return;
            }
            RaftClientRequest request =
                    RaftClientRequest.newBuilder()
                            .setClientId(clientId)
                            .setServerId(target)
                            .setGroupId(groupId)
                            .setCallId(callId)
                            .setMessage(message)
                            .setType(type)
                            .build();
            CompletableFuture<RaftClientReply> reply;
            try {
                reply = target.equals(self) ? submitHere(request) : forward(request);
            } catch (IOException | RuntimeException e) {
                reply = CompletableFuture.failedFuture(e);
            }
            reply.whenComplete(
                    (r, e) -> {
                        try {
                            executor.execute(() -> onReply(target, r, e));
                        } catch (RejectedExecutionException stopping) {
                            result.completeExceptionally(
                                    new AlreadyClosedException(self + " is stopping", stopping));
                        }
                    });
        }

        private void onReply(RaftPeerId target, RaftClientReply reply, Throwable error) {
            Throwable failure =
                    error != null
                            ? JavaUtils.unwrapCompletionException(error)
                            : reply.getException();
            if (error != null && !target.equals(self)) {
                reconnectIfBroken(target, failure);
            }
            if (failure == null || failure instanceof ResourceUnavailableException) {
                complete(reply, error);
                return;
            }
            if (failure instanceof NotLeaderException notLeader) {
                learn(notLeader.getPeers());
                RaftPeer suggested = notLeader.getSuggestedLeader();
                if (route == Route.LEADER
                        && suggested != null
                        && !suggested.getId().equals(target)
                        && redirects++ < MAX_REDIRECTS) {
                    send(suggested.getId()); // on the executor: not inside Ratis
                } else {
                    retryLater(failure);
                }
                return;
            }
            // A peer that is closing is not this member closing: the next leader may answer.
            if (retriable(failure)
                    || (failure instanceof AlreadyClosedException && !target.equals(self))) {
                retryLater(failure);
            } else {
                complete(reply, error);
            }
        }

        private void complete(RaftClientReply reply, Throwable error) {
            if (error != null) {
                result.completeExceptionally(JavaUtils.unwrapCompletionException(error));
            } else {
                result.complete(reply);
            }
        }

        private void retryLater(Throwable failure) {
            if (failure != null) {
                lastFailure = failure;
            }
            long left = deadline - nanoTime.getAsLong();
            if (left <= 0) {
                Throwable last = lastFailure;
                TimeoutIOException timeout =
                        new TimeoutIOException(
                                self
                                        + ": request "
                                        + callId
                                        + " not answered within "
                                        + Duration.ofNanos(deadlineNanos)
                                        + (last == null ? " (no leader)" : ": " + last));
                if (last != null) {
                    timeout.initCause(last);
                }
                result.completeExceptionally(timeout);
                return;
            }
            try {
                executor.schedule(
                        () -> send(target()),
                        Math.min(left, RETRY_PAUSE.toNanos()),
                        TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                result.completeExceptionally(new AlreadyClosedException(self + " is stopping", e));
            }
        }
    }

    /**
     * Submits to this member's division. The division takes client requests itself; going through
     * the server instead would add a hand-off to Ratis's client executor and a wait for it on this
     * thread.
     */
    private CompletableFuture<RaftClientReply> submitHere(RaftClientRequest request)
            throws IOException {
        RaftServer.Division division = server.getDivision(groupId);
        return division instanceof RaftClientAsynchronousProtocol direct
                ? direct.submitClientRequestAsync(request)
                : server.submitClientRequestAsync(request);
    }

    private CompletableFuture<RaftClientReply> forward(RaftClientRequest request) {
        if (!known.contains(request.getServerId())) {
            learn(configuration());
        }
        return transport.sendRequestAsyncUnordered(request);
    }

    /**
     * Lets the transport drop its connection to {@code peer} after a failure that may have broken
     * it (as Ratis's own client does), so the next request opens a new one.
     */
    private void reconnectIfBroken(RaftPeerId peer, Throwable failure) {
        if (failure instanceof IOException io
                && !(failure instanceof LeaderNotReadyException)
                && !(failure instanceof ResourceUnavailableException)) {
            transport.handleException(peer, io, true);
        }
    }

    /** Hands peers to the transport, which addresses the leader by the peers it was given. */
    private void learn(Collection<RaftPeer> peers) {
        if (peers == null || peers.isEmpty()) {
            return;
        }
        transport.addRaftPeers(peers);
        peers.forEach(p -> known.add(p.getId()));
    }

    private Collection<RaftPeer> configuration() {
        try {
            return server.getDivision(groupId).getRaftConf().getAllPeers();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The leader this member knows, or null. */
    private RaftPeerId leader() {
        try {
            return server.getDivision(groupId).getInfo().getLeaderId();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Failures that a later attempt may not meet: no leader or not ready yet, a leader stepping
     * down, a read index the leader could not give, a peer that did not answer or could not be
     * reached.
     */
    private static boolean retriable(Throwable failure) {
        return failure instanceof ServerNotReadyException
                || failure instanceof LeaderSteppingDownException
                || failure instanceof ReadIndexException
                || failure instanceof ReadException
                || failure instanceof TimeoutIOException
                || (failure instanceof IOException && !(failure instanceof RaftException));
    }

    /** Reads a reply's message; throws what protobuf parsers throw. */
    interface Parser<T> {
        T parse(ByteBuffer bytes) throws InvalidProtocolBufferException;
    }

    /**
     * The message of a successful reply, parsed; a failed reply or one that does not parse ends the
     * calling stage with a {@link CompletionException}.
     */
    static <T> T decode(RaftClientReply reply, Parser<T> parser) {
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

    /** A message over {@code bytes}, not copied: the caller does not change them afterwards. */
    static Message message(byte[] bytes) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
    }
}
