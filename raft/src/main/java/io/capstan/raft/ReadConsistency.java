package io.capstan.raft;

/** How fresh a read must be. */
public enum ReadConsistency {
    /** Sees every write acknowledged before the read began (Ratis ReadIndex through the leader). */
    LINEARIZABLE,
    /**
     * This member's applied state, possibly behind the leader; no round trip (etcd's serializable).
     */
    SERIALIZABLE
}
