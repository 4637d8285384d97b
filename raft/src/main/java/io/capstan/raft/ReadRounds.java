package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.TxnRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.RaftServer;

/**
 * The read rounds of one running member: each proves that this member may answer a linearizable
 * read begun before the round started (see {@link #next}). {@link ReadBarrier} shares one round
 * among the reads waiting for it.
 *
 * <p>Immutable; {@link #next} is called from any thread, and its stages run on Ratis's threads and
 * on {@code replies}, never calling back into Ratis from a Ratis completion.
 */
final class ReadRounds {
    /** A command that changes nothing: a transaction without compares or operations. */
    static final Command NOTHING =
            Command.newBuilder().setTxn(TxnRequest.getDefaultInstance()).build();

    /**
     * A read of one key no range covers alone: through ReadIndex, it waits for the commit index.
     */
    static final Query CATCH_UP =
            Query.newBuilder()
                    .setRange(RangeRequest.newBuilder().setKey(ByteString.copyFrom(new byte[] {0})))
                    .build();

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final Optional<LeadershipCheck> check;
    private final KeyspaceStateMachine machine;
    private final RaftRequests carrier;
    private final Executor replies;
    private final Duration timeout;
    private final Message nothing = RaftRequests.message(NOTHING.toByteArray());
    private final Message catchUp = RaftRequests.message(CATCH_UP.toByteArray());

    /**
     * @param check the transport's proof of leadership, if it offers one
     * @param replies where a leader's round continues once the state machine applied its index
     * @param timeout how long a leader's proof and apply may take before the round fails
     */
    ReadRounds(
            RaftServer server,
            RaftGroupId groupId,
            Optional<LeadershipCheck> check,
            KeyspaceStateMachine machine,
            RaftRequests carrier,
            Executor replies,
            Duration timeout) {
        this.server = server;
        this.groupId = groupId;
        this.check = check;
        this.machine = machine;
        this.carrier = carrier;
        this.replies = replies;
        this.timeout = timeout;
    }

    /**
     * One read round: proof that the leader still leads, taken after the round began, then waiting
     * until this member has applied up to the leader's commit index of that moment (ReadIndex).
     *
     * <p>Why not Ratis's ReadIndex alone: Ratis's leader answers a ReadIndex request at once,
     * without hearing from a majority, when its commit index has not moved since the last round
     * that did. Under reads alone the commit index stands still, so a leader that was deposed
     * (paused, cut off) while a new leader commits writes would answer from stale state. So:
     *
     * <ul>
     *   <li>with a transport that offers a {@link LeadershipCheck}, the leader proves itself with a
     *       heartbeat round and no log entry, and answers followers' ReadIndex requests only after
     *       such a proof; a follower asks the leader through Ratis's ReadIndex;
     *   <li>otherwise an empty transaction is committed after the round began (a commit needs a
     *       majority to accept this leader's term), then a follower reads Ratis's ReadIndex, which
     *       now has moved.
     * </ul>
     */
    CompletableFuture<?> next() {
        RaftServer.Division division;
        try {
            division = server.getDivision(groupId);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (soleVoter(division)) {
            // No other member can lead, so there is nothing to prove: no entry per read.
            return catchUpRound();
        }
        if (check.isEmpty()) {
            return carrier.write(nothing)
                    .thenCompose(
                            committed -> {
                                RaftRequests.decode(committed, CommandResult::parseFrom);
                                return committed.getServerId().equals(server.getId())
                                        ? CompletableFuture.completedFuture(null)
                                        : catchUpRound();
                            });
        }
        if (!division.getInfo().isLeader()) {
            return catchUpRound();
        }
        return check.get()
                .confirm(division)
                .thenCompose(machine::appliedUpTo)
                .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
                // Off the apply thread, which completes the wait.
                .handleAsync((applied, failure) -> failure, replies)
                .thenCompose(
                        failure -> {
                            if (failure == null) {
                                return CompletableFuture.completedFuture(null);
                            }
                            Throwable cause = StepQueue.cause(failure);
                            // Deposed meanwhile: ask the new leader as any follower does.
                            return cause instanceof NotLeaderException
                                    ? catchUpRound()
                                    : CompletableFuture.failedFuture(cause);
                        });
    }

    /**
     * Ratis's ReadIndex read on this member: waits until it applied up to the leader's commit
     * index.
     */
    private CompletableFuture<?> catchUpRound() {
        return carrier.read(catchUp, RaftRequests.Route.HERE)
                .thenApply(r -> RaftRequests.decode(r, QueryResult::parseFrom));
    }

    /** Whether this member is the only voter, a configuration being changed included. */
    private boolean soleVoter(RaftServer.Division division) {
        Collection<RaftPeer> voters = division.getRaftConf().getAllPeers();
        return voters.size() == 1 && voters.iterator().next().getId().equals(server.getId());
    }
}
