package io.capstan.raft;

import static io.capstan.raft.MemberViews.addressesOf;
import static io.capstan.raft.MemberViews.find;
import static io.capstan.raft.MemberViews.refuseTakenAddresses;

import io.capstan.raft.MembershipException.Reason;
import io.capstan.raft.StepQueue.Outcome;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.MemberDeleteRequest;
import io.capstan.raft.proto.MemberListRequest;
import io.capstan.raft.proto.MemberPutRequest;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.RaftConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster membership as etcd's Cluster API sees it, over two sources of truth: Ratis's
 * configuration decides who is a member and who votes; the replicated member records (see {@code
 * MemberRecord} in raft.proto) hold what Ratis does not, each member's stable id and the client
 * URLs it published, plus members added but not started yet (see {@link MemberViews}).
 *
 * <p>etcd's order of operations holds: a member is added first ({@link #add}: a record with its
 * peer URL and no name), then started with {@code initial-cluster-state = existing}, and then joins
 * by itself ({@link #join}): it finds its record by its own peer address and asks the leader to add
 * it to the configuration, as a voter or a learner, so Ratis catches it up before it counts. Every
 * member publishes its record once it is in the configuration ({@link #publish}).
 *
 * <p><b>Steps.</b> Every change, join and publish is an operation of a {@link StepQueue}, run in
 * attempts, one operation at a time, so this member never overlaps two configuration changes (Ratis
 * refuses overlapping ones). An attempt starts calls and returns; each call's answer comes back as
 * a step on the queue's thread. An attempt that must wait (not added yet, no leader, a
 * configuration change that lost a race) leaves the queue and comes back after a delay, while the
 * others go on. No step blocks or sleeps.
 *
 * <p><b>Threads.</b> The steps run on the queue's one thread (the node's membership thread, or a
 * test's). Views ({@link #localView}, {@link #members}, {@link #memberIdOf}) are computed on the
 * caller's thread from immutable records and Ratis's configuration. Two members taking membership
 * requests at once are ordered by Ratis: a configuration change based on a stale view is refused
 * and retried on a fresh one.
 *
 * <p><b>States.</b> Open, then stopped by {@link #stop}: every operation not done yet fails with an
 * {@link IllegalStateException} saying the member is stopping, no retry runs after, and an
 * operation asked for after fails the same way.
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    /** How long join and publish wait between attempts. */
    static final Duration RETRY = Duration.ofSeconds(1);

    /** How long a configuration change that lost a race waits before it tries again. */
    static final Duration CHANGE_RETRY = RETRY.dividedBy(4);

    /** Attempts of one configuration change before its last refusal is the answer. */
    static final int CHANGE_ATTEMPTS = 10;

    /** What the membership needs from its node; each call is safe from any thread. */
    interface Node {
        /** This member's view of the current configuration; the same object until it changes. */
        RaftConfiguration configuration() throws IOException;

        /** This member's applied records; the same list until they change. */
        List<MemberRecord> localRecords();

        CompletableFuture<CommandResult> propose(Command command);

        CompletableFuture<QueryResult> linearizable(Query query);

        /**
         * Each member's commit index as this member last heard it, by name (Ratis's commit infos:
         * the leader's view of its followers, passed on to them with its appends).
         */
        Map<String, Long> commitIndices() throws IOException;

        /**
         * Asks the leader for {@code change}; completes once it is in effect, or fails with Ratis's
         * refusal. Returns at once.
         */
        CompletableFuture<Void> setConfiguration(SetConfigurationRequest.Arguments change);
    }

    private final RaftSettings settings;
    private final StepQueue queue;
    private final Node node;
    private final MemberViews views;
    private final Random random = new SecureRandom();
    private final Duration callTimeout;

    Membership(RaftSettings settings, StepQueue.Scheduler scheduler, Node node) {
        this.settings = settings;
        this.queue = new StepQueue(settings.nodeId(), scheduler);
        this.node = node;
        this.views = new MemberViews(settings.groupId());
        this.callTimeout = settings.requestTimeout().multipliedBy(3);
    }

    // ---- views: any thread ----

    /**
     * This member's view, from its own applied records and configuration (serializable); the same
     * list while neither changed.
     */
    List<Member> localView() {
        try {
            return views.of(node.configuration(), node.localRecords());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The id of member {@code name} as this member knows it. */
    long memberIdOf(String name) {
        try {
            for (Member member : localView()) {
                if (member.name().equals(name)) {
                    return member.id();
                }
            }
        } catch (UncheckedIOException e) {
            // No configuration to read: the id the member was formed with.
        }
        return Member.initialId(settings.groupId(), name);
    }

    /**
     * The members, read linearizably: records by a linearizable read, configuration of this member.
     */
    CompletableFuture<List<Member>> members() {
        return records()
                .thenApply(
                        records -> {
                            try {
                                return MemberViews.view(
                                        settings.groupId(), node.configuration(), records);
                            } catch (IOException e) {
                                throw new CompletionException(e);
                            }
                        });
    }

    private CompletableFuture<List<MemberRecord>> records() {
        return node.linearizable(
                        Query.newBuilder()
                                .setMemberList(MemberListRequest.getDefaultInstance())
                                .build())
                .thenApply(result -> result.getMemberList().getMembersList());
    }

    // ---- operations: asked for on any thread, run on the membership thread ----

    /** Records a member to be started later; it joins by itself when it starts (see class doc). */
    CompletableFuture<Member> add(List<String> peerUrls, boolean learner) {
        List<String> addresses = addressesOf(peerUrls);
        return queue.submit(
                "add " + peerUrls,
                attempt ->
                        then(
                                call(members()),
                                current -> addTo(current, addresses, peerUrls, learner)));
    }

    private CompletableFuture<Outcome<Member>> addTo(
            List<Member> current, List<String> addresses, List<String> peerUrls, boolean learner) {
        refuseTakenAddresses(current, addresses, 0);
        long id = freshId(current);
        MemberRecord record =
                MemberRecord.newBuilder()
                        .setId(id)
                        .addAllPeerUrls(peerUrls)
                        .setIsLearner(learner)
                        .build();
        return then(
                call(propose(record)),
                applied -> {
                    LOG.info(
                            "[{}] member {} added ({}), peer URLs {}",
                            settings.nodeId(),
                            Long.toHexString(id),
                            learner ? "learner" : "voter",
                            peerUrls);
                    return completed(new Member(id, "", peerUrls, List.of(), learner));
                });
    }

    /** Removes a member from the configuration and forgets its record; answers the rest. */
    CompletableFuture<List<Member>> remove(long id) {
        return queue.submit(
                "remove " + Long.toHexString(id),
                attempt -> then(call(members()), current -> removeFrom(current, id, attempt)));
    }

    private CompletableFuture<Outcome<List<Member>>> removeFrom(
            List<Member> current, long id, int attempt) throws IOException {
        Member member = find(current, id);
        CompletableFuture<Outcome<Void>> changed =
                member.started()
                        ? changeConfiguration(
                                attempt,
                                (voters, learners) -> {
                                    voters.removeIf(p -> isPeer(p, member));
                                    learners.removeIf(p -> isPeer(p, member));
                                    if (voters.isEmpty()) {
                                        throw new MembershipException(
                                                Reason.NOT_ENOUGH_MEMBERS,
                                                "removing "
                                                        + member.name()
                                                        + " would leave no voting member");
                                    }
                                })
                        : completed(null);
        return afterChange(
                changed,
                () ->
                        then(
                                call(node.propose(forget(id))),
                                applied -> {
                                    LOG.info(
                                            "[{}] member {} removed",
                                            settings.nodeId(),
                                            Long.toHexString(id));
                                    return answer(members());
                                }));
    }

    private static Command forget(long id) {
        return Command.newBuilder()
                .setMemberDelete(MemberDeleteRequest.newBuilder().setId(id))
                .build();
    }

    /** Makes a started learner a voter once Ratis has caught it up. */
    CompletableFuture<Member> promote(long id) {
        return queue.submit(
                "promote " + Long.toHexString(id),
                attempt -> then(call(members()), current -> promoteIn(current, id, attempt)));
    }

    private CompletableFuture<Outcome<Member>> promoteIn(List<Member> current, long id, int attempt)
            throws IOException {
        Member member = find(current, id);
        if (!member.learner()) {
            throw notLearner();
        }
        if (!member.started()) {
            throw new MembershipException(Reason.LEARNER_NOT_READY, "learner has not started");
        }
        MemberViews.refuseBehind(member, node.commitIndices());
        CompletableFuture<Outcome<Void>> changed =
                changeConfiguration(
                                attempt,
                                (voters, learners) -> {
                                    RaftPeer peer =
                                            learners.stream()
                                                    .filter(p -> isPeer(p, member))
                                                    .findFirst()
                                                    .orElseThrow(Membership::notLearner);
                                    learners.remove(peer);
                                    voters.add(peer);
                                })
                        .exceptionallyCompose(
                                failure -> {
                                    Throwable cause = StepQueue.cause(failure);
                                    return CompletableFuture.failedFuture(
                                            cause instanceof ReconfigurationTimeoutException
                                                    ? new MembershipException(
                                                            Reason.LEARNER_NOT_READY,
                                                            "learner did not catch up with the"
                                                                    + " leader: "
                                                                    + cause.getMessage())
                                                    : cause);
                                });
        return afterChange(
                changed,
                () -> {
                    LOG.info("[{}] member {} promoted", settings.nodeId(), member.name());
                    return call(members()).thenApply(after -> Outcome.done(find(after, id)));
                });
    }

    private static MembershipException notLearner() {
        return new MembershipException(Reason.MEMBER_NOT_LEARNER, "member is not a learner");
    }

    /**
     * Changes a member's peer URLs. A member not started yet takes any free URLs; a started member
     * keeps its address (Ratis has no in-place address change: remove it and add it back).
     */
    CompletableFuture<List<Member>> update(long id, List<String> peerUrls) {
        List<String> addresses = addressesOf(peerUrls);
        return queue.submit(
                "update " + Long.toHexString(id),
                attempt ->
                        then(
                                call(members()),
                                current -> updateIn(current, id, addresses, peerUrls)));
    }

    private CompletableFuture<Outcome<List<Member>>> updateIn(
            List<Member> current, long id, List<String> addresses, List<String> peerUrls) {
        Member member = find(current, id);
        refuseTakenAddresses(current, addresses, id);
        if (member.started()) {
            String address = MemberUrls.address(member.peerUrls().get(0));
            if (!addresses.equals(List.of(address))) {
                throw new MembershipException(
                        Reason.ADDRESS_FIXED,
                        "member "
                                + member.name()
                                + " has started at "
                                + member.peerUrls().get(0)
                                + "; a started member's peer URL cannot change in place: remove"
                                + " it and add it back");
            }
            return completed(current);
        }
        MemberRecord record =
                MemberRecord.newBuilder()
                        .setId(id)
                        .addAllPeerUrls(peerUrls)
                        .setIsLearner(member.learner())
                        .build();
        return then(call(propose(record)), applied -> answer(members()));
    }

    /**
     * Joins an existing cluster: waits until this member has been added, then asks the leader to
     * put it in the configuration. Completes when this member is in it; tries again every {@link
     * #RETRY} until then or until {@link #stop}.
     */
    CompletableFuture<Void> join() {
        boolean[] told = {false};
        return queue.submit(
                "join",
                attempt ->
                        retryOnFailure(
                                "not joined yet",
                                () -> {
                                    if (inConfiguration(node.configuration())) {
                                        return completed(null);
                                    }
                                    return then(call(records()), records -> joinAs(records, told));
                                }));
    }

    /** Asks to join as the member added at this member's address; waits when there is none yet. */
    private CompletableFuture<Outcome<Void>> joinAs(List<MemberRecord> records, boolean[] told) {
        String address = settings.self().address();
        Optional<MemberRecord> added = MemberViews.addedAt(address, records);
        if (added.isEmpty()) {
            if (!told[0]) {
                told[0] = true;
                LOG.warn(
                        "[{}] waiting to be added to the cluster: run `etcdctl member add {}"
                                + " --peer-urls={}` against a member",
                        settings.nodeId(),
                        settings.nodeId(),
                        MemberUrls.url(address));
            }
            return CompletableFuture.completedFuture(Outcome.retry(RETRY));
        }
        LOG.info(
                "[{}] joining the cluster as member {}",
                settings.nodeId(),
                Long.toHexString(added.get().getId()));
        RaftPeer self = RaftPeer.newBuilder().setId(settings.nodeId()).setAddress(address).build();
        boolean learner = added.get().getIsLearner();
        SetConfigurationRequest.Arguments change =
                SetConfigurationRequest.Arguments.newBuilder()
                        .setMode(SetConfigurationRequest.Mode.ADD)
                        .setServersInNewConf(learner ? List.of() : List.of(self))
                        .setListenersInNewConf(learner ? List.of(self) : List.of())
                        .build();
        // Not timed out here: Ratis's client bounds it, and a second change must not overlap it.
        return node.setConfiguration(change).thenApply(joined -> Outcome.done(null));
    }

    /**
     * Publishes this member's record (its id, name, peer and client URLs) once it is in the
     * configuration; tries again every {@link #RETRY} until that is done or until {@link #stop}. A
     * record already up to date is left alone.
     */
    CompletableFuture<Void> publish(List<String> clientUrls) {
        return queue.submit(
                "publish",
                attempt ->
                        retryOnFailure(
                                "not published yet",
                                () -> {
                                    RaftConfiguration conf = node.configuration();
                                    if (!inConfiguration(conf)) {
                                        return CompletableFuture.completedFuture(
                                                Outcome.retry(RETRY));
                                    }
                                    return then(
                                            call(records()),
                                            records -> publishIn(conf, records, clientUrls));
                                }));
    }

    private CompletableFuture<Outcome<Void>> publishIn(
            RaftConfiguration conf, List<MemberRecord> records, List<String> clientUrls) {
        String name = settings.nodeId();
        String address = settings.self().address();
        long id =
                MemberViews.recordOf(name, address, records)
                        .map(MemberRecord::getId)
                        .orElseGet(() -> Member.initialId(settings.groupId(), name));
        MemberRecord wanted =
                MemberRecord.newBuilder()
                        .setId(id)
                        .setName(name)
                        .addPeerUrls(MemberUrls.url(address))
                        .addAllClientUrls(clientUrls)
                        .setIsLearner(
                                conf.getPeer(RaftPeerId.valueOf(name), RaftPeerRole.LISTENER)
                                        != null)
                        .build();
        if (records.contains(wanted)) {
            return completed(null);
        }
        return call(propose(wanted))
                .thenApply(
                        applied -> {
                            LOG.info(
                                    "[{}] published as member {} with client URLs {}",
                                    settings.nodeId(),
                                    Long.toHexString(id),
                                    clientUrls);
                            return Outcome.done(null);
                        });
    }

    /** Stops: every operation not done fails, and none runs or retries after (see class doc). */
    void stop() {
        queue.stop();
    }

    // ---- attempts' parts: the membership thread ----

    private interface ConfigurationEdit {
        /** Edits the voter and learner lists in place, or throws to refuse. */
        void apply(List<RaftPeer> voters, List<RaftPeer> learners);
    }

    /**
     * Applies {@code edit} to the current configuration with compare-and-set; when another change
     * won the race or was still in progress, the operation is tried again on a fresh configuration
     * after {@link #CHANGE_RETRY}, {@link #CHANGE_ATTEMPTS} attempts at most.
     */
    private CompletableFuture<Outcome<Void>> changeConfiguration(
            int attempt, ConfigurationEdit edit) throws IOException {
        RaftConfiguration conf = node.configuration();
        List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
        List<RaftPeer> learners = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
        List<RaftPeer> newVoters = new ArrayList<>(voters);
        List<RaftPeer> newLearners = new ArrayList<>(learners);
        edit.apply(newVoters, newLearners);
        SetConfigurationRequest.Arguments change =
                SetConfigurationRequest.Arguments.newBuilder()
                        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                        .setServersInCurrentConf(voters)
                        .setListenersInCurrentConf(learners)
                        .setServersInNewConf(newVoters)
                        .setListenersInNewConf(newLearners)
                        .build();
        // Not timed out here: Ratis's client bounds it, and a second change must not overlap it.
        return node.setConfiguration(change)
                .handle(
                        (changed, failure) -> {
                            if (failure == null) {
                                return Outcome.done(null);
                            }
                            Throwable cause = StepQueue.cause(failure);
                            boolean lostRace =
                                    cause instanceof SetConfigurationException
                                            || cause instanceof ReconfigurationInProgressException;
                            if (lostRace && attempt < CHANGE_ATTEMPTS) {
                                LOG.info(
                                        "[{}] configuration change: trying again on a fresh"
                                                + " configuration ({})",
                                        settings.nodeId(),
                                        cause.getMessage());
                                return Outcome.retry(CHANGE_RETRY);
                            }
                            throw new CompletionException(cause);
                        });
    }

    /**
     * {@code next} on the membership thread after a configuration change that is done; the change's
     * retry as the operation's otherwise.
     */
    private <T> CompletableFuture<Outcome<T>> afterChange(
            CompletableFuture<Outcome<Void>> change, Supplier<CompletableFuture<Outcome<T>>> next) {
        return then(
                change,
                outcome ->
                        outcome.retryAfter() != null
                                ? CompletableFuture.completedFuture(
                                        Outcome.<T>retry(outcome.retryAfter()))
                                : next.get());
    }

    /** The operation's value: what {@code call} answers. */
    private <T> CompletableFuture<Outcome<T>> answer(CompletableFuture<T> call) {
        return call(call).thenApply(Outcome::done);
    }

    /**
     * {@code attempt}, started now; should it fail, for a reason time may mend (no leader yet, no
     * configuration to read yet), the operation is tried again after {@link #RETRY}.
     */
    private <T> CompletableFuture<Outcome<T>> retryOnFailure(String what, Start<T> attempt) {
        CompletableFuture<Outcome<T>> started;
        try {
            started = attempt.start();
        } catch (IOException | RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        return started.handle(
                (outcome, failure) -> {
                    if (failure == null) {
                        return outcome;
                    }
                    Throwable cause = StepQueue.cause(failure);
                    LOG.info("[{}] {}: {}", settings.nodeId(), what, cause.toString());
                    return Outcome.retry(RETRY);
                });
    }

    /** Continues with {@code next} on the membership thread once {@code call} answered. */
    private <A, T> CompletableFuture<Outcome<T>> then(
            CompletableFuture<A> call, StepFunction<A, CompletableFuture<Outcome<T>>> next) {
        return call.thenComposeAsync(
                answer -> {
                    try {
                        return next.apply(answer);
                    } catch (IOException e) {
                        throw new CompletionException(e);
                    }
                },
                queue.steps());
    }

    private interface Start<T> {
        CompletableFuture<Outcome<T>> start() throws IOException;
    }

    private interface StepFunction<A, R> {
        R apply(A answer) throws IOException;
    }

    private static <T> CompletableFuture<Outcome<T>> completed(T value) {
        return CompletableFuture.completedFuture(Outcome.done(value));
    }

    /** {@code call}, failed with an IOException naming the timeout if it takes longer. */
    private <T> CompletableFuture<T> call(CompletableFuture<T> call) {
        return call.copy()
                .orTimeout(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(
                        failure ->
                                CompletableFuture.failedFuture(
                                        StepQueue.cause(failure) instanceof TimeoutException
                                                ? new IOException("no answer within " + callTimeout)
                                                : StepQueue.cause(failure)));
    }

    private boolean inConfiguration(RaftConfiguration conf) {
        return conf.getPeer(
                        RaftPeerId.valueOf(settings.nodeId()),
                        RaftPeerRole.FOLLOWER,
                        RaftPeerRole.LISTENER)
                != null;
    }

    private static boolean isPeer(RaftPeer peer, Member member) {
        return peer.getId().toString().equals(member.name());
    }

    private long freshId(List<Member> members) {
        Set<Long> taken = new HashSet<>();
        members.forEach(m -> taken.add(m.id()));
        long id;
        do {
            id = random.nextLong();
        } while (id == 0 || taken.contains(id));
        return id;
    }

    private CompletableFuture<CommandResult> propose(MemberRecord record) {
        return node.propose(
                Command.newBuilder()
                        .setMemberPut(MemberPutRequest.newBuilder().setMember(record))
                        .build());
    }
}
