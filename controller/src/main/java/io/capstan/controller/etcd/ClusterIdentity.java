package io.capstan.controller.etcd;

import io.capstan.raft.RaftSettings;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * etcd's 64-bit cluster and member ids, derived from Capstan's Raft group id and member ids so that
 * every member computes the same values without storing or exchanging them: the first eight bytes
 * of a SHA-256 of the group id (cluster) or of the group id and the member's id (member). A result
 * of 0, which etcd reserves for "none", is replaced by 1. Immutable.
 *
 * @param groupId the Raft group
 * @param clusterId the cluster's id in every response header
 * @param memberId this member's id in every response header
 */
record ClusterIdentity(UUID groupId, long clusterId, long memberId) {

    static ClusterIdentity of(RaftSettings settings) {
        UUID group = settings.groupId();
        return new ClusterIdentity(group, hash("cluster/" + group), memberId(group, settings.nodeId()));
    }

    /** The etcd member id of the member called {@code nodeId} in this cluster. */
    long memberIdOf(String nodeId) {
        return memberId(groupId, nodeId);
    }

    private static long memberId(UUID group, String nodeId) {
        return hash("member/" + group + "/" + nodeId);
    }

    private static long hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            long id = ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }
}
