package io.capstan.faults;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.MemberAddRequest;
import io.capstan.etcd.api.MemberListRequest;
import io.capstan.etcd.api.MemberPromoteRequest;
import io.capstan.etcd.api.MemberRemoveRequest;
import io.capstan.etcd.api.RangeRequest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * MemberChanges changes through etcd's Cluster API, as an operator makes them: remove a member, add
 * it back at the same peer URL (as a voter, or as a learner promoted once it has caught up), and
 * wait until it serves. Each call goes to a running member other than the one changed, the leader
 * first, and is tried again on another until it is seen to have taken effect: a call that timed out
 * may or may not have, so the member list decides.
 *
 * <p>Threads: the control thread only.
 */
final class MemberChanges {
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(5);
    private static final Duration RETRY_PAUSE = Duration.ofMillis(500);

    private final Cluster cluster;
    private final Target target;

    MemberChanges(Cluster cluster, Target target) {
        this.cluster = cluster;
        this.target = target;
    }

    /**
     * Removes {@code member} from the cluster's configuration.
     *
     * @return whether the member list, asked of another member, no longer has it within {@code
     *     timeout}
     */
    boolean remove(MemberSlot member, Duration timeout) throws InterruptedException {
        return until(
                        member,
                        false,
                        timeout,
                        (via, listed) ->
                                cluster.clusterApi(via, CALL_DEADLINE)
                                        .memberRemove(
                                                MemberRemoveRequest.newBuilder()
                                                        .setID(listed.orElseThrow().getID())
                                                        .build()))
                .isPresent();
    }

    /**
     * Adds {@code member} back at its peer URL, as a learner when {@code learner}.
     *
     * @return the new member id, once another member lists it within {@code timeout}
     */
    Optional<Long> add(MemberSlot member, boolean learner, Duration timeout)
            throws InterruptedException {
        return until(
                        member,
                        true,
                        timeout,
                        (via, listed) ->
                                cluster.clusterApi(via, CALL_DEADLINE)
                                        .memberAdd(
                                                MemberAddRequest.newBuilder()
                                                        .addPeerURLs(target.peerUrl(member))
                                                        .setIsLearner(learner)
                                                        .build()))
                .flatMap(entry -> entry.map(io.capstan.etcd.api.Member::getID));
    }

    /**
     * One attempt at a change, through {@code via}, given {@code member}'s entry in its list now.
     */
    @FunctionalInterface
    private interface Change {
        void request(MemberSlot via, Optional<io.capstan.etcd.api.Member> listed);
    }

    /**
     * Requests {@code change} until another member's list has {@code member} ({@code listed}) or no
     * longer has it; a request that failed or timed out may have taken effect, so the list decides.
     *
     * @return the entry seen at the end (empty inside when not {@code listed}); empty when {@code
     *     timeout} passed first
     */
    private Optional<Optional<io.capstan.etcd.api.Member>> until(
            MemberSlot member, boolean listed, Duration timeout, Change change)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (MemberSlot via : others(member)) {
                Optional<io.capstan.etcd.api.Member> entry;
                try {
                    entry = find(via, member);
                } catch (RuntimeException e) {
                    continue;
                }
                if (entry.isPresent() == listed) {
                    return Optional.of(entry);
                }
                try {
                    change.request(via, entry);
                } catch (RuntimeException e) {
                    // Refused, or unknown whether it happened: the member list says on the next
                    // round.
                }
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
            throws InterruptedException {
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

    private boolean promote(MemberSlot member, long id) {
        for (MemberSlot via : others(member)) {
            try {
                Optional<io.capstan.etcd.api.Member> listed = find(via, member);
                if (listed.isPresent() && !listed.get().getIsLearner()) {
                    return true;
                }
                cluster.clusterApi(via, CALL_DEADLINE)
                        .memberPromote(MemberPromoteRequest.newBuilder().setID(id).build());
                return true;
            } catch (RuntimeException e) {
                // Not caught up yet, or that member cannot say now: again later.
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

    /** The running members other than {@code member}, the leader first. */
    private List<MemberSlot> others(MemberSlot member) {
        Optional<MemberSlot> leader = cluster.leader();
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
