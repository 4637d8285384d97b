package io.capstan.raft;

/**
 * A fingerprint of a replica's replicated state: equal on two replicas that applied the same log.
 *
 * @param revision the keyspace revision
 * @param sha256 hex SHA-256 over revision, compact revision, every key's history and every lease
 */
public record StateDigest(long revision, String sha256) {}
