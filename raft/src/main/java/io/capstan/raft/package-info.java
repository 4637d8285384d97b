/**
 * Capstan's replicated state: a Ratis state machine holding an MVCC keyspace with etcd's semantics,
 * leases, snapshots, and a watch hub.
 *
 * <p>Public surface: {@link io.capstan.raft.KeyspaceNode}, the contract an API needs of a member
 * (propose, query, watch, auth state, status, hashes and digest), and its two implementations:
 * {@link io.capstan.raft.RaftNode} (one member of a Raft group: also start, stop, publish, its
 * {@link io.capstan.raft.MemberAdmin} for membership, leadership and snapshots, and {@link
 * io.capstan.raft.MemberStats} for metrics) and {@link io.capstan.raft.LocalKeyspaceNode} (the same
 * keyspace in memory, without Raft, for tests); its {@link io.capstan.raft.RaftSettings} with
 * {@link io.capstan.raft.Peer}, {@link io.capstan.raft.Limits} and {@link
 * io.capstan.raft.WatchSettings}, the watch API ({@link io.capstan.raft.WatchSpec}, {@link
 * io.capstan.raft.WatchListener}, {@link io.capstan.raft.Watch}, {@link
 * io.capstan.raft.WatchEvent}, {@link io.capstan.raft.WatchCanceled}), the transport seam {@link
 * io.capstan.raft.TransportBinding} with {@link io.capstan.raft.GrpcTransportBinding}, the typed
 * errors {@link io.capstan.raft.InvalidCommandException} and {@link
 * io.capstan.raft.KeyspaceException}, and the protobuf messages in {@code io.capstan.raft.proto}
 * (commands in the log, queries, results). Everything else is package-private.
 *
 * <p>Decisions worth knowing:
 *
 * <ul>
 *   <li>Reads never lock the apply path: per-key immutable histories in a concurrent skip list, a
 *       volatile published revision, readers fixed to one revision ({@code MvccStore}).
 *   <li>Keep-alives go through the log (like every lease operation), so any member accepts them and
 *       forwards them like a write; applying one restarts the leader's countdown and changes no
 *       replicated state. Only the leader's tracker, on an injected clock, decides expiry and
 *       proposes a {@code LeaseExpire} command; a new leader restarts every countdown in full.
 *   <li>A lease id of 0 in a grant is replaced, at apply time, by one derived from the entry's log
 *       index, so every replica picks the same id.
 *   <li>{@code LeaseTimeToLive} is answered by the leader (whose countdowns are the truth); a
 *       serializable query on a follower reports the granted TTL as the time left.
 *   <li>A batch of expired leases is revoked in one revision.
 *   <li>Membership (joining, publishing this member, adding, removing, promoting, updating) runs as
 *       operations of a {@code StepQueue} on one thread, one at a time: no step blocks or sleeps, a
 *       wait is a retry scheduled for later, and stopping the node fails every operation not done
 *       with an error saying so.
 * </ul>
 *
 * <p>Watches, and who owns what ({@code WatchHub} has the details):
 *
 * <ul>
 *   <li>The apply thread, after publishing a revision, hands its changes to a bounded lock-free
 *       queue ({@code Handoff}) and unparks the hub thread: O(1), no per-watch work, never a wait.
 *       When the queue is full it drops the revision and flags it; the hub then re-reads what it
 *       missed from the store's history, which is what replays use anyway.
 *   <li>The hub thread ({@code WatchDriver}) owns the registry of watches and the revision it has
 *       dispatched. A watch is either catching up (reading history, a window per pass) or synced
 *       (fed live revisions); both happen on that one thread, so the switch from history to live
 *       events has no gap and no duplicate.
 *   <li>Each watch has its own bounded outbox, drained by one task at a time on a pool of delivery
 *       threads; a listener that blocks only fills its own outbox, and an overflowing one is
 *       canceled with the revision to resume from. Listeners are never called by the apply thread
 *       or the hub thread.
 *   <li>Events come from this member's own apply, so they survive leader changes, and a revision is
 *       reported only once it is readable here. Within one revision, events are in the order the
 *       changes were made (etcd's sub-revision order: a transaction's operations in turn, a
 *       delete-range's or a lease revocation's keys in key order), live or replayed.
 * </ul>
 */
package io.capstan.raft;
