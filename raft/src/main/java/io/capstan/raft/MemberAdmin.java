package io.capstan.raft;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The administration of one member's cluster: its members and changes to them, leadership, and
 * snapshots. Apart from {@link KeyspaceNode}, which serves the keyspace, because only the cluster
 * and maintenance calls and the daemon's admin API need it. Every method may be called from any
 * thread; every outcome, failures included, comes through the returned future.
 */
public interface MemberAdmin {

    /**
     * Every member of the cluster: this member's configuration joined with the replicated member
     * records (read linearizably, or from this member's state when serializable), and the members
     * added but not started yet; by id.
     */
    CompletableFuture<List<Member>> members(ReadConsistency consistency);

    /**
     * Adds a member to be started later with {@code joinExisting}; it joins by itself then. Fails
     * with {@link MembershipException} when a peer URL is bad or taken.
     */
    CompletableFuture<Member> addMember(List<String> peerUrls, boolean learner);

    /** Removes member {@code id} from the cluster; completes with the members left. */
    CompletableFuture<List<Member>> removeMember(long id);

    /** Makes learner {@code id} a voter once it has caught up; completes with it promoted. */
    CompletableFuture<Member> promoteMember(long id);

    /** Changes the peer URLs of a member not started yet. */
    CompletableFuture<List<Member>> updateMember(long id, List<String> peerUrls);

    /**
     * Hands leadership to the member {@code nodeId}, which only the leader can do. Completes once
     * that member leads (at once when it is this one); fails with Ratis's {@code
     * NotLeaderException} when this member does not lead, or its {@code
     * TransferLeadershipException} when {@code nodeId} is not a voting member or did not take over
     * within the request timeout.
     */
    CompletableFuture<Void> transferLeadership(String nodeId);

    /** Takes a snapshot of this member's state now; completes with its log index. */
    CompletableFuture<Long> takeSnapshot();

    /**
     * Takes a snapshot of this member's state now (as {@link #takeSnapshot}) and opens it for
     * export; the caller reads it and closes it.
     */
    CompletableFuture<SnapshotExport> exportSnapshot();
}
