package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.util.concurrent.CompletableFuture;

/**
 * One member's keyspace as an API serves it: commands proposed, queries answered, watches, the auth
 * state, and who and where this member is. {@link RaftNode} is the replicated implementation;
 * {@link LocalKeyspaceNode} keeps the same state in memory, without Raft, for tests of an API that
 * are not about replication. Lifecycle and administration (membership, leadership, snapshots) are
 * not part of this contract: see {@link RaftNode} and {@link MemberAdmin}.
 *
 * <p>Every method may be called from any thread; futures may complete on the implementation's
 * threads, so callers must not block in their dependants.
 */
public interface KeyspaceNode {

    /** This member's name in the cluster (its Raft peer id). */
    String nodeId();

    /** This member's id, as the cluster knows it (see {@link Member#id()}). */
    long memberId();

    /** The id of the member named {@code name}, from this member's applied state. */
    long memberIdOf(String name);

    /**
     * Validates {@code command} and applies it to the keyspace, once.
     *
     * @return the result once applied; a transaction whose compares failed is a result with {@code
     *     succeeded = false}, not an exception. Fails with {@link InvalidCommandException} when the
     *     command breaks the limits, and {@link KeyspaceException} when the state refuses it (a
     *     missing lease, a denied permission).
     */
    CompletableFuture<CommandResult> propose(Command command);

    /**
     * Answers a read-only query; a linearizable one sees every command applied before it was asked.
     * Fails as {@link #propose} does.
     */
    CompletableFuture<QueryResult> query(Query query, ReadConsistency consistency);

    /**
     * Watches this member's keyspace with etcd's Watch semantics (see {@link RaftNode#watch}).
     *
     * @throws InvalidCommandException when the key or range end breaks the limits
     * @throws IllegalStateException when the member is not running
     */
    Watch watch(WatchSpec spec, WatchListener listener);

    /** This member's auth state as applied so far, read at once. */
    AuthState auth();

    /**
     * This member's auth state once it applied everything committed when asked (linearizable), or
     * at once (serializable).
     */
    CompletableFuture<AuthState> auth(ReadConsistency consistency);

    /** This member's latest applied revision, read at once. */
    long appliedRevision();

    /** This member's role, term and progress, read at once. */
    NodeStatus status();

    /**
     * etcd's HashKV of this member's applied history up to {@code revision} (0: the latest); CPU
     * work on the calling thread.
     *
     * @throws KeyspaceException COMPACTED or FUTURE_REVISION, as etcd refuses the revision
     */
    KvHash hashKv(long revision);

    /** A fingerprint of this member's applied state; see {@link StateDigest}. */
    StateDigest stateDigest();
}
