/**
 * Capstan's replicated state: a Ratis state machine holding an MVCC keyspace with etcd's
 * semantics, leases, and snapshots.
 *
 * <p>Public surface: {@link io.capstan.raft.RaftNode} (one member: start, stop, propose, query,
 * status, snapshot, state digest), its {@link io.capstan.raft.RaftSettings} with
 * {@link io.capstan.raft.Peer} and {@link io.capstan.raft.Limits}, the transport seam
 * {@link io.capstan.raft.TransportBinding} with {@link io.capstan.raft.GrpcTransportBinding}, the
 * typed errors {@link io.capstan.raft.InvalidCommandException} and
 * {@link io.capstan.raft.KeyspaceException}, and the protobuf messages in
 * {@code io.capstan.raft.proto} (commands in the log, queries, results). Everything else is
 * package-private.
 *
 * <p>Decisions worth knowing:
 * <ul>
 *   <li>Reads never lock the apply path: per-key immutable histories in a concurrent skip list,
 *       a volatile published revision, readers fixed to one revision ({@code MvccStore}).</li>
 *   <li>Keep-alives go through the log (like every lease operation), so any member accepts them
 *       and forwards them like a write; applying one restarts the leader's countdown and changes
 *       no replicated state. Only the leader's tracker, on an injected clock, decides expiry and
 *       proposes a {@code LeaseExpire} command; a new leader restarts every countdown in full.</li>
 *   <li>A lease id of 0 in a grant is replaced, at apply time, by one derived from the entry's
 *       log index, so every replica picks the same id.</li>
 *   <li>{@code LeaseTimeToLive} is answered by the leader (whose countdowns are the truth); a
 *       serializable query on a follower reports the granted TTL as the time left.</li>
 *   <li>A batch of expired leases is revoked in one revision.</li>
 * </ul>
 */
package io.capstan.raft;
