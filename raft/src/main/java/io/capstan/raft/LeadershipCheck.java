package io.capstan.raft;

import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.RaftServer;

/**
 * Proves, for a linearizable read, that a member leads: a majority of the voters accepted its term
 * in messages sent after the call, so no other member can have been elected before the call and the
 * leader's commit index then covers every write acknowledged before it. Followers' ReadIndex
 * requests must get the same proof from the leader before it answers them.
 */
@FunctionalInterface
public interface LeadershipCheck {

    /**
     * Completes with the read index, {@code division}'s commit index when the proof began. Fails
     * with {@link NotLeaderException} when it does not lead (or has committed no entry of its term
     * yet), and with another exception when no majority answered in time.
     */
    CompletableFuture<Long> confirm(RaftServer.Division division);
}
