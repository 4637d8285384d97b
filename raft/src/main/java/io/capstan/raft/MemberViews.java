package io.capstan.raft;

import io.capstan.raft.MembershipException.Reason;
import io.capstan.raft.proto.MemberRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftConfiguration;

/**
 * The members as etcd's Cluster API lists them, joined from Ratis's configuration (who is a member,
 * who votes) and the replicated member records (stable ids, client URLs, members added but not
 * started yet); and the checks a membership change makes against a view (stateless).
 *
 * <p>An instance remembers the last view it built with the configuration and records it came from,
 * both immutable, and hands it out again while they are the same objects: this member's own view is
 * read for every response header, and changes only when the membership does. Safe on any thread:
 * racing readers may each build a view, and the last one is kept.
 */
final class MemberViews {
    private static final Comparator<Member> BY_ID = (a, b) -> Long.compareUnsigned(a.id(), b.id());

    private record Built(RaftConfiguration conf, List<MemberRecord> records, List<Member> view) {}

    private final UUID group;
    private volatile Built last;

    MemberViews(UUID group) {
        this.group = group;
    }

    /**
     * The view of {@code conf} and {@code records}; the same list as before when neither changed.
     */
    List<Member> of(RaftConfiguration conf, List<MemberRecord> records) {
        Built built = last;
        if (built != null && built.conf() == conf && built.records() == records) {
            return built.view();
        }
        List<Member> view = view(group, conf, records);
        last = new Built(conf, records, view);
        return view;
    }

    /**
     * Every member: those in the configuration (by id, with their records' ids and client URLs),
     * then those added but not started.
     */
    static List<Member> view(UUID group, RaftConfiguration conf, List<MemberRecord> records) {
        List<Member> members = new ArrayList<>();
        Set<Long> shown = new HashSet<>();
        addConfigured(group, conf.getCurrentPeers(RaftPeerRole.FOLLOWER), false, records, members);
        addConfigured(group, conf.getCurrentPeers(RaftPeerRole.LISTENER), true, records, members);
        members.forEach(m -> shown.add(m.id()));
        for (MemberRecord record : records) {
            if (record.getName().isEmpty() && !shown.contains(record.getId())) {
                members.add(
                        new Member(
                                record.getId(),
                                "",
                                record.getPeerUrlsList(),
                                record.getClientUrlsList(),
                                record.getIsLearner()));
            }
        }
        members.sort(BY_ID);
        return List.copyOf(members);
    }

    private static void addConfigured(
            UUID group,
            Collection<RaftPeer> peers,
            boolean learner,
            List<MemberRecord> records,
            List<Member> into) {
        for (RaftPeer peer : peers) {
            String name = peer.getId().toString();
            Optional<MemberRecord> record = recordOf(name, peer.getAddress(), records);
            into.add(
                    new Member(
                            record.map(MemberRecord::getId)
                                    .orElseGet(() -> Member.initialId(group, name)),
                            name,
                            List.of(MemberUrls.url(peer.getAddress())),
                            record.<List<String>>map(MemberRecord::getClientUrlsList)
                                    .orElse(List.of()),
                            learner));
        }
    }

    /** The record of a configured member: its own, else the unnamed one added for its address. */
    static Optional<MemberRecord> recordOf(
            String name, String address, List<MemberRecord> records) {
        Optional<MemberRecord> named =
                records.stream().filter(r -> r.getName().equals(name)).findFirst();
        if (named.isPresent()) {
            return named;
        }
        return addedAt(address, records);
    }

    /** The record of a member added at {@code address} and not started yet. */
    static Optional<MemberRecord> addedAt(String address, List<MemberRecord> records) {
        return records.stream()
                .filter(r -> r.getName().isEmpty() && hasAddress(r, address))
                .findFirst();
    }

    private static boolean hasAddress(MemberRecord record, String address) {
        return record.getPeerUrlsList().stream()
                .anyMatch(url -> MemberUrls.address(url).equals(address));
    }

    // ---- checks of a change against a view: membership's operations ----

    /**
     * @throws MembershipException MEMBER_NOT_FOUND when no member has {@code id}
     */
    static Member find(List<Member> members, long id) {
        return members.stream()
                .filter(m -> m.id() == id)
                .findFirst()
                .orElseThrow(
                        () ->
                                new MembershipException(
                                        Reason.MEMBER_NOT_FOUND,
                                        "member " + Long.toHexString(id) + " not found"));
    }

    /**
     * The {@code host:port} of each peer URL.
     *
     * @throws MembershipException BAD_PEER_URL for no URL, too many, or one that is not
     *     http(s)://host:port
     */
    static List<String> addressesOf(List<String> peerUrls) {
        if (peerUrls.isEmpty() || peerUrls.size() > CommandValidator.MAX_MEMBER_URLS) {
            throw new MembershipException(
                    Reason.BAD_PEER_URL,
                    "a member needs 1 to " + CommandValidator.MAX_MEMBER_URLS + " peer URLs");
        }
        try {
            return peerUrls.stream().map(MemberUrls::address).distinct().toList();
        } catch (IllegalArgumentException e) {
            throw new MembershipException(Reason.BAD_PEER_URL, e.getMessage());
        }
    }

    /**
     * @throws MembershipException PEER_URL_EXISTS when a member but {@code except} has one of
     *     {@code addresses}
     */
    static void refuseTakenAddresses(List<Member> members, List<String> addresses, long except) {
        for (Member member : members) {
            if (member.id() == except) {
                continue;
            }
            for (String url : member.peerUrls()) {
                if (addresses.contains(MemberUrls.address(url))) {
                    throw new MembershipException(
                            Reason.PEER_URL_EXISTS,
                            "peer URL "
                                    + url
                                    + " belongs to member "
                                    + Long.toHexString(member.id()));
                }
            }
        }
    }

    /**
     * etcd's bar for promotion: a learner is in sync with the leader once its log reaches this
     * share of the leader's.
     */
    static final double IN_SYNC = 0.9;

    /**
     * Refuses to promote a learner that is not in sync with the leader, as etcd does: its commit
     * index below {@link #IN_SYNC} of the leader's (the highest this member knows of). Ratis checks
     * nothing here (it catches up new voters only, and a learner already receives the log), and a
     * voter that is far behind would not count towards commits for as long as it catches up.
     *
     * @param commits each member's commit index as this member last heard it, by name
     */
    static void refuseBehind(Member learner, Map<String, Long> commits) {
        long leader = commits.values().stream().mapToLong(Long::longValue).max().orElse(0);
        long caughtUp = commits.getOrDefault(learner.name(), -1L);
        if (caughtUp < IN_SYNC * leader) {
            throw new MembershipException(
                    Reason.LEARNER_NOT_READY,
                    "learner is not in sync with the leader: commit index "
                            + caughtUp
                            + " of the leader's "
                            + leader);
        }
    }
}
