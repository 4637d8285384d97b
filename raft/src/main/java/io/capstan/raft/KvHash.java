package io.capstan.raft;

/**
 * etcd's HashKV of one member's keyspace history; see {@link RaftNode#hashKv}. Immutable.
 *
 * @param hash the CRC-32C, etcd's {@code hash} (an unsigned 32-bit value in an int)
 * @param revision the revision hashed up to, etcd's {@code hash_revision}
 * @param compactRevision the member's compact revision when hashing, -1 when it never compacted
 * @param currentRevision the member's latest revision when hashing
 */
public record KvHash(int hash, long revision, long compactRevision, long currentRevision) {}
