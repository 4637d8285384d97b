package io.capstan.raft;

/**
 * A handle on one watch created by {@link RaftNode#watch}. Safe to use from any thread.
 *
 * <p>etcd's watch ids belong to one gRPC stream and are chosen by its client; the API layer keeps
 * them. {@link #id()} is this member's own, for logs.
 */
public interface Watch {

    /** Unique among this member's watches. */
    long id();

    /** The member's revision when the watch was created (what etcd reports when it is created). */
    long createdRevision();

    /**
     * The first revision this watch reports: the requested one, or {@code createdRevision() + 1}.
     */
    long startRevision();

    /**
     * Ends the watch. Reports already on their way to the listener are dropped (one already being
     * delivered finishes), and the listener then gets {@link WatchCanceled.Cause#CANCELED}.
     * Idempotent; a no-op after the watch ended.
     */
    void cancel();

    /**
     * Asks for one {@link WatchListener#onProgress} call, sent as soon as the watch has caught up
     * with the member's latest revision.
     */
    void requestProgress();
}
