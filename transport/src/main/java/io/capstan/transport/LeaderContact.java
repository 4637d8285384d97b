package io.capstan.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Proof that this member still leads, for linearizable reads: a majority of the voters accepted
 * this leader's term in appends (heartbeats or entries) sent after the proof was asked for. No
 * other member can have been elected before that moment (its voters would have left this term
 * first), so everything committed before it is in this leader's commit index.
 *
 * <p>Why not Ratis's own ReadIndex check: it answers at once, without hearing from anyone, while
 * the commit index has not moved since the last check that did. Under reads alone the index stands
 * still, so a leader that was paused or cut off would answer from stale state.
 *
 * <p>It learns from every append reply the member's log appenders receive (through {@link
 * WebServerRpc}) and wakes the appenders it was given by {@link WebRpcFactory}, so a round costs
 * one heartbeat per follower and no log entry. Concurrent rounds share the same replies.
 *
 * <p>Thread-safety: appenders are registered on Ratis's leader-election thread, replies arrive on
 * the peer I/O thread, rounds start on any thread and time out on the transport's timer; all state
 * is guarded by this object's lock, held only for map updates and counting.
 */
final class LeaderContact {

    /** The latest append a follower accepted in {@code term}, sent at {@code sentNanos}. */
    private record Ack(long term, long sentNanos) {}

    /**
     * A round waiting for a majority that accepted {@code term} in appends sent since {@code
     * since}.
     */
    private static final class Round {
        final long term;
        final long since;
        final RaftPeerId self;
        final Collection<RaftPeer> current;
        final Collection<RaftPeer> previous;
        final long readIndex;
        final CompletableFuture<Long> result = new CompletableFuture<>();
        volatile ScheduledFuture<?> deadline;

        Round(long term, long since, RaftPeerId self, RaftConfiguration conf, long readIndex) {
            this.term = term;
            this.since = since;
            this.self = self;
            this.current = conf.getCurrentPeers();
            this.previous = conf.getPreviousPeers();
            this.readIndex = readIndex;
        }

        boolean confirmedBy(Map<RaftPeerId, Ack> acks) {
            return majority(current, acks) && (previous.isEmpty() || majority(previous, acks));
        }

        private boolean majority(Collection<RaftPeer> voters, Map<RaftPeerId, Ack> acks) {
            int yes = 0;
            for (RaftPeer voter : voters) {
                Ack ack = acks.get(voter.getId());
                if (voter.getId().equals(self)
                        || (ack != null && ack.term == term && ack.sentNanos - since >= 0)) {
                    yes++;
                }
            }
            return 2 * yes > voters.size();
        }

        Set<RaftPeerId> others() {
            Set<RaftPeerId> ids = new HashSet<>();
            current.forEach(p -> ids.add(p.getId()));
            previous.forEach(p -> ids.add(p.getId()));
            ids.remove(self);
            return ids;
        }
    }

    private final ScheduledExecutorService timer;
    private final LongSupplier nanoTime;
    private final Duration timeout;

    /** Guarded by this. */
    private final Map<RaftPeerId, Ack> acks = new HashMap<>();

    /** Guarded by this: the newest appender Ratis made for each follower. */
    private final Map<RaftPeerId, LogAppender> appenders = new HashMap<>();

    /** Guarded by this. */
    private final List<Round> rounds = new ArrayList<>();

    /**
     * @param timeout how long a round waits for a majority before it fails
     */
    LeaderContact(ScheduledExecutorService timer, LongSupplier nanoTime, Duration timeout) {
        this.timer = timer;
        this.nanoTime = nanoTime;
        this.timeout = timeout;
    }

    /**
     * Ratis made {@code appender} to replicate to its follower; the newest one replaces the rest.
     */
    synchronized void appenderStarted(LogAppender appender) {
        appenders.put(appender.getFollowerId(), appender);
    }

    /**
     * When this member, leading in {@code term}, sent an append at {@code sentNanos} and got {@code
     * reply}.
     */
    void replied(RaftPeerId follower, long term, long sentNanos, AppendEntriesReplyProto reply) {
        // NOT_LEADER: the follower knows a newer term. Any other answer accepts this one.
        if (reply.getResult() == AppendEntriesReplyProto.AppendResult.NOT_LEADER
                || reply.getTerm() != term) {
            return;
        }
        List<Round> confirmed = new ArrayList<>();
        synchronized (this) {
            Ack previous = acks.get(follower);
            if (previous != null && previous.term == term && previous.sentNanos - sentNanos >= 0) {
                return;
            }
            acks.put(follower, new Ack(term, sentNanos));
            for (Iterator<Round> it = rounds.iterator(); it.hasNext(); ) {
                Round round = it.next();
                if (round.confirmedBy(acks)) {
                    it.remove();
                    confirmed.add(round);
                }
            }
        }
        confirmed.forEach(LeaderContact::complete);
    }

    /**
     * Proves that {@code division} leads, as the class says. Completes with its read index: its
     * commit index when the round began, which covers every write acknowledged before the call.
     * Fails with {@link NotLeaderException} at once when it does not lead (or has not yet committed
     * an entry of its term, which its commit index needs), and with {@link ReadIndexException} when
     * no majority answered within the timeout.
     */
    CompletableFuture<Long> confirm(RaftServer.Division division) {
        DivisionInfo info = division.getInfo();
        if (!info.isLeader() || !info.isLeaderReady()) {
            return CompletableFuture.failedFuture(
                    new NotLeaderException(
                            division.getMemberId(), null, division.getGroup().getPeers()));
        }
        long term = info.getCurrentTerm();
        long since = nanoTime.getAsLong();
        Round round =
                new Round(
                        term,
                        since,
                        division.getId(),
                        division.getRaftConf(),
                        division.getRaftLog().getLastCommittedIndex());
        List<LogAppender> wake = new ArrayList<>();
        synchronized (this) {
            if (round.confirmedBy(Map.of())) {
                // The only voter: nobody else can lead.
                return CompletableFuture.completedFuture(round.readIndex);
            }
            rounds.add(round);
            for (RaftPeerId other : round.others()) {
                LogAppender appender = appenders.get(other);
                if (appender != null) {
                    wake.add(appender);
                }
            }
        }
        round.deadline =
                timer.schedule(() -> expire(round), timeout.toNanos(), TimeUnit.NANOSECONDS);
        wake.forEach(LogAppender::triggerHeartbeat);
        return round.result;
    }

    private void expire(Round round) {
        synchronized (this) {
            if (!rounds.remove(round)) {
                return;
            }
        }
        round.result.completeExceptionally(
                new ReadIndexException(
                        "no majority of members confirmed this leader's term "
                                + round.term
                                + " within "
                                + timeout));
    }

    private static void complete(Round round) {
        ScheduledFuture<?> deadline = round.deadline;
        if (deadline != null) {
            deadline.cancel(false);
        }
        round.result.complete(round.readIndex);
    }
}
