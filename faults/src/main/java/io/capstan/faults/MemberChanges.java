package io.capstan.faults;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.MemberAddRequest;
import io.capstan.etcd.api.MemberListRequest;
import io.capstan.etcd.api.MemberPromoteRequest;
import io.capstan.etcd.api.MemberRemoveRequest;
import io.capstan.etcd.api.RangeRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Membership changes through etcd's Cluster API, as an operator makes them: remove a member, add it
 * back at the same peer URL (as a voter, or as a learner promoted once it has caught up), and wait
 * until it serves. Each call goes to a running member other than the one changed, the leader first,
 * and is tried again on another until it is seen to have taken effect: a call that timed out may or
 * may not have, so the member list decides. Every request, and every member list that could not be
 * read, goes to the fault log with the member asked and its answer, so a change that does not
 * finish shows why.
 *
 * <p>Threads: the control thread only.
 */
final class MemberChanges {
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(5);
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);

    private final Cluster cluster;
    private final Target target;
    private final FaultLog log;

    MemberChanges(Cluster cluster, Target target, FaultLog log) {
        this.cluster = cluster;
        this.target = target;
        this.log = log;
    }

    /**
     * Removes {@code member} from the cluster's configuration.
     *
     * @return whether the member list, asked of another member, no longer has it within {@code
     *     timeout}
     */
    boolean remove(MemberSlot member, Duration timeout) throws IOException, InterruptedException {
        return until(
                        "member-remove",
                        member,
                        false,
                        timeout,
                        (via, listed) -> {
                            long id = listed.orElseThrow().getID();
                            MemberRemoveRequest request =
                                    MemberRemoveRequest.newBuilder().setID(id).build();
                            int left =
                                    cluster.clusterApi(via, CALL_DEADLINE)
                                            .memberRemove(request)
                                            .getMembersCount();
                            return "removed " + Long.toHexString(id) + ", " + left + " left";
                        })
                .isPresent();
    }

    /**
     * Adds {@code member} back at its peer URL, as a learner when {@code learner}.
     *
     * @return the new member id, once another member lists it within {@code timeout}
     */
    Optional<Long> add(MemberSlot member, boolean learner, Duration timeout)
            throws IOException, InterruptedException {
        return until(
                        "member-add",
                        member,
                        true,
                        timeout,
                        (via, listed) -> {
                            MemberAddRequest request =
                                    MemberAddRequest.newBuilder()
                                            .addPeerURLs(target.peerUrl(member))
                                            .setIsLearner(learner)
                                            .build();
                            long id =
                                    cluster.clusterApi(via, CALL_DEADLINE)
                                            .memberAdd(request)
                                            .getMember()
                                            .getID();
                            return "added as " + Long.toHexString(id);
                        })
                .flatMap(entry -> entry.map(io.capstan.etcd.api.Member::getID));
    }

    /**
     * One attempt at a change, through {@code via}, given {@code member}'s entry in its list now.
     */
    @FunctionalInterface
    private interface Change {
        /** Returns what the member asked answered; throws what it refused with. */
        String request(MemberSlot via, Optional<io.capstan.etcd.api.Member> listed);
    }

    /**
     * Requests {@code change} until another member's list has {@code member} ({@code listed}) or no
     * longer has it; a request that failed or timed out may have taken effect, so the list decides.
     *
     * @return the entry seen at the end (empty inside when not {@code listed}); empty when {@code
     *     timeout} passed first
     */
    private Optional<Optional<io.capstan.etcd.api.Member>> until(
            String action, MemberSlot member, boolean listed, Duration timeout, Change change)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<MemberSlot> leader = cluster.leader();
            for (MemberSlot via : others(member, leader)) {
                Optional<io.capstan.etcd.api.Member> entry;
                try {
                    entry = find(via, member);
                } catch (RuntimeException e) {
                    log.request(
                            action,
                            member + ": member list " + endpoint(via, leader) + " failed: " + e);
                    continue;
                }
                if (entry.isPresent() == listed) {
                    return Optional.of(entry);
                }
                String answer;
                try {
                    answer = change.request(via, entry);
                } catch (RuntimeException e) {
                    // Refused, or unknown whether it happened: the member list says on the next
                    // round.
                    answer = "failed: " + e;
                }
                log.request(action, member + " " + endpoint(via, leader) + ": " + answer);
                break;
            }
            Thread.sleep(RETRY_PAUSE.toMillis());
        }
        return Optional.empty();
    }

    /**
     * Waits until {@code member} (started after {@link #add}) serves: a voter once a linearizable
     * read through it succeeds; a learner is first promoted, which the cluster refuses until it has
     * caught up.
     *
     * @return whether it serves within {@code timeout}
     */
    boolean awaitServing(MemberSlot member, long id, boolean learner, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean voter = !learner;
        while (System.nanoTime() < deadline) {
            if (!voter) {
                voter = promote(member, id);
            }
            if (voter && readsThrough(member)) {
                return true;
            }
            Thread.sleep(RETRY_PAUSE.toMillis());
        }
        return false;
    }

    private boolean promote(MemberSlot member, long id) throws IOException {
        Optional<MemberSlot> leader = cluster.leader();
        for (MemberSlot via : others(member, leader)) {
            String asked = member + " (" + Long.toHexString(id) + ") " + endpoint(via, leader);
            try {
                Optional<io.capstan.etcd.api.Member> listed = find(via, member);
                if (listed.isPresent() && !listed.get().getIsLearner()) {
                    log.request("member-promote", asked + ": listed as a voter");
                    return true;
                }
                cluster.clusterApi(via, CALL_DEADLINE)
                        .memberPromote(MemberPromoteRequest.newBuilder().setID(id).build());
                log.request("member-promote", asked + ": promoted");
                return true;
            } catch (RuntimeException e) {
                // Not caught up yet, or that member cannot say now: again later.
                log.request("member-promote", asked + " failed: " + e);
            }
        }
        return false;
    }

    private boolean readsThrough(MemberSlot member) {
        try {
            cluster.kv(member, CALL_DEADLINE)
                    .range(
                            RangeRequest.newBuilder()
                                    .setKey(ByteString.copyFromUtf8("health"))
                                    .build());
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** {@code member}'s entry in the list {@code via} knows, found by its peer URL. */
    private Optional<io.capstan.etcd.api.Member> find(MemberSlot via, MemberSlot member) {
        String url = target.peerUrl(member);
        return cluster
                .clusterApi(via, CALL_DEADLINE)
                .memberList(MemberListRequest.getDefaultInstance())
                .getMembersList()
                .stream()
                .filter(m -> m.getPeerURLsList().contains(url))
                .findFirst();
    }

    /** Who was asked, for the log: {@code via n1 at 127.0.0.1:27581 (the leader)}. */
    private String endpoint(MemberSlot via, Optional<MemberSlot> leader) {
        return "via "
                + via
                + " at "
                + MemberSlot.HOST
                + ":"
                + target.clientPort(via)
                + leader.map(l -> l.equals(via) ? " (the leader)" : " (leader " + l + ")")
                        .orElse(" (no leader known)");
    }

    /** The running members other than {@code member}, {@code leader} first. */
    private List<MemberSlot> others(MemberSlot member, Optional<MemberSlot> leader) {
        return cluster.running().stream()
                .filter(m -> !m.equals(member))
                .sorted(
                        (a, b) ->
                                Boolean.compare(
                                        !leader.map(a::equals).orElse(false),
                                        !leader.map(b::equals).orElse(false)))
                .toList();
    }
}
