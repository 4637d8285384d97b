package io.capstan.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.UUID;

/**
 * One member of the cluster as etcd's Cluster API shows it. Immutable.
 *
 * @param id the member's 64-bit id, the same on every member and across restarts: derived from the
 *     group and the name for the members the cluster was formed with, chosen when added for the
 *     others
 * @param name the member's node id; empty for a member added but not started yet
 * @param peerUrls where its peer transport listens, {@code http://host:port}
 * @param clientUrls where it serves clients, as it published them; empty until it has
 * @param learner whether it is a non-voting member (a Ratis listener)
 */
public record Member(
        long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner) {

    public Member {
        peerUrls = List.copyOf(peerUrls);
        clientUrls = List.copyOf(clientUrls);
    }

    /** Whether the member has started and joined the Raft group. */
    public boolean started() {
        return !name.isEmpty();
    }

    /**
     * The id of member {@code name} of the cluster formed as group {@code group}: the first eight
     * bytes of a SHA-256 of both, so every member computes it without storing or exchanging it. 0,
     * which etcd reserves for "none", becomes 1.
     */
    public static long initialId(UUID group, String name) {
        return hash("member/" + group + "/" + name);
    }

    /** The cluster id of group {@code group}, derived as {@link #initialId} is. */
    public static long clusterId(UUID group) {
        return hash("cluster/" + group);
    }

    private static long hash(String text) {
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256")
                            .digest(text.getBytes(StandardCharsets.UTF_8));
            long id = ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }
}
