package io.capstan.raft;

import io.capstan.raft.MembershipException.Reason;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.MemberDeleteRequest;
import io.capstan.raft.proto.MemberListRequest;
import io.capstan.raft.proto.MemberPutRequest;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;

import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.RaftConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Cluster membership as etcd's Cluster API sees it, over two sources of truth: Ratis's
 * configuration decides who is a member and who votes; the replicated member records (see {@code
 * MemberRecord} in raft.proto) hold what Ratis does not, each member's stable id and the client
 * URLs it published, plus members added but not started yet.
 *
 * <p>etcd's order of operations holds: a member is added first ({@link #add}: a record with its
 * peer URL and no name), then started with {@code initial-cluster-state = existing}, and then
 * joins by itself ({@link #join}): it finds its record by its own peer address and asks the leader
 * to add it to the configuration, as a voter or a learner, so Ratis catches it up before it counts.
 * Every member publishes its record once it is in the configuration ({@link #publish}).
 *
 * <p>Threads: one thread, the node's membership executor, runs the join and publish loops and
 * every configuration change, so this member never overlaps two (Ratis refuses overlapping ones).
 * Views ({@link #members}, {@link #memberIdOf}) are computed on the caller's thread from immutable
 * records and Ratis's configuration. Two members taking membership requests at once are ordered by
 * Ratis: a configuration change based on a stale view is refused and retried on a fresh one.
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final int CHANGE_ATTEMPTS = 10;
    private static final Comparator<Member> BY_ID = (a, b) -> Long.compareUnsigned(a.id(), b.id());

    /** What the membership needs from its node; each call is safe from the membership thread. */
    interface Node {
        boolean running();

        RaftClient client();

        /** This member's view of the current configuration. */
        RaftConfiguration configuration() throws IOException;

        /** This member's applied records. */
        List<MemberRecord> localRecords();

        CompletableFuture<CommandResult> propose(Command command);

        CompletableFuture<QueryResult> linearizable(Query query);
    }

    private final RaftSettings settings;
    private final ScheduledExecutorService executor;
    private final Node node;
    private final Random random = new SecureRandom();
    private final Duration callTimeout;

    Membership(RaftSettings settings, ScheduledExecutorService executor, Node node) {
        this.settings = settings;
        this.executor = executor;
        this.node = node;
        this.callTimeout = settings.requestTimeout().multipliedBy(3);
    }

    // ---- views: any thread ----

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
    private static Optional<MemberRecord> recordOf(
            String name, String address, List<MemberRecord> records) {
        Optional<MemberRecord> named =
                records.stream().filter(r -> r.getName().equals(name)).findFirst();
        if (named.isPresent()) {
            return named;
        }
        return records.stream()
                .filter(r -> r.getName().isEmpty() && hasAddress(r, address))
                .findFirst();
    }

    private static boolean hasAddress(MemberRecord record, String address) {
        return record.getPeerUrlsList().stream()
                .anyMatch(url -> MemberUrls.address(url).equals(address));
    }

    /** This member's view, from its own applied records and configuration (serializable). */
    List<Member> localView() {
        try {
            return view(settings.groupId(), node.configuration(), node.localRecords());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The id of member {@code name} as this member knows it. */
    long memberIdOf(String name) {
        try {
            return localView().stream()
                    .filter(m -> m.name().equals(name))
                    .findFirst()
                    .map(Member::id)
                    .orElseGet(() -> Member.initialId(settings.groupId(), name));
        } catch (UncheckedIOException e) {
            return Member.initialId(settings.groupId(), name);
        }
    }

    /** The members, read linearizably: records by a linearizable read, configuration of this member. */
    CompletableFuture<List<Member>> members() {
        return records()
                .thenApply(
                        records -> {
                            try {
                                return view(settings.groupId(), node.configuration(), records);
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

    // ---- changes: on the membership thread ----

    /** Records a member to be started later; it joins by itself when it starts (see class doc). */
    CompletableFuture<Member> add(List<String> peerUrls, boolean learner) {
        List<String> addresses = addressesOf(peerUrls);
        return onMembershipThread(
                () -> {
                    List<Member> current = await(members());
                    refuseTakenAddresses(current, addresses, 0);
                    long id = freshId(current);
                    MemberRecord record =
                            MemberRecord.newBuilder()
                                    .setId(id)
                                    .addAllPeerUrls(peerUrls)
                                    .setIsLearner(learner)
                                    .build();
                    await(propose(record));
                    LOG.info(
                            "[{}] member {} added ({}), peer URLs {}",
                            settings.nodeId(),
                            Long.toHexString(id),
                            learner ? "learner" : "voter",
                            peerUrls);
                    return new Member(id, "", peerUrls, List.of(), learner);
                });
    }

    /** Removes a member from the configuration and forgets its record; answers the rest. */
    CompletableFuture<List<Member>> remove(long id) {
        return onMembershipThread(
                () -> {
                    Member member = find(await(members()), id);
                    if (member.started()) {
                        changeConfiguration(
                                "remove " + member.name(),
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
                                });
                    }
                    await(
                            node.propose(
                                    Command.newBuilder()
                                            .setMemberDelete(
                                                    MemberDeleteRequest.newBuilder().setId(id))
                                            .build()));
                    LOG.info("[{}] member {} removed", settings.nodeId(), Long.toHexString(id));
                    return await(members());
                });
    }

    /** Makes a started learner a voter once Ratis has caught it up. */
    CompletableFuture<Member> promote(long id) {
        return onMembershipThread(
                () -> {
                    Member member = find(await(members()), id);
                    if (!member.learner()) {
                        throw new MembershipException(
                                Reason.MEMBER_NOT_LEARNER, "member is not a learner");
                    }
                    if (!member.started()) {
                        throw new MembershipException(
                                Reason.LEARNER_NOT_READY, "learner has not started");
                    }
                    try {
                        changeConfiguration(
                                "promote " + member.name(),
                                (voters, learners) -> {
                                    RaftPeer peer =
                                            learners.stream()
                                                    .filter(p -> isPeer(p, member))
                                                    .findFirst()
                                                    .orElseThrow(
                                                            () ->
                                                                    new MembershipException(
                                                                            Reason
                                                                                    .MEMBER_NOT_LEARNER,
                                                                            "member is not a"
                                                                                    + " learner"));
                                    learners.remove(peer);
                                    voters.add(peer);
                                });
                    } catch (ReconfigurationTimeoutException e) {
                        throw new MembershipException(
                                Reason.LEARNER_NOT_READY,
                                "learner did not catch up with the leader: " + e.getMessage());
                    }
                    LOG.info("[{}] member {} promoted", settings.nodeId(), member.name());
                    return find(await(members()), id);
                });
    }

    /**
     * Changes a member's peer URLs. A member not started yet takes any free URLs; a started member
     * keeps its address (Ratis has no in-place address change: remove it and add it back).
     */
    CompletableFuture<List<Member>> update(long id, List<String> peerUrls) {
        List<String> addresses = addressesOf(peerUrls);
        return onMembershipThread(
                () -> {
                    List<Member> current = await(members());
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
                                            + "; a started member's peer URL cannot change in"
                                            + " place: remove it and add it back");
                        }
                        return current;
                    }
                    await(
                            propose(
                                    MemberRecord.newBuilder()
                                            .setId(id)
                                            .addAllPeerUrls(peerUrls)
                                            .setIsLearner(member.learner())
                                            .build()));
                    return await(members());
                });
    }

    /**
     * Joins an existing cluster: waits until this member has been added, then asks the leader to
     * put it in the configuration. Completes when this member is in it; retries until then or until
     * the node stops.
     */
    CompletableFuture<Void> join() {
        CompletableFuture<Void> joined = new CompletableFuture<>();
        executor.execute(() -> joinStep(joined, false));
        return joined;
    }

    private void joinStep(CompletableFuture<Void> joined, boolean toldToAdd) {
        if (!node.running()) {
            joined.cancel(false);
            return;
        }
        boolean told = toldToAdd;
        try {
            if (inConfiguration(node.configuration())) {
                joined.complete(null);
                return;
            }
            String address = settings.self().address();
            Optional<MemberRecord> added =
                    await(records()).stream()
                            .filter(r -> r.getName().isEmpty() && hasAddress(r, address))
                            .findFirst();
            if (added.isEmpty()) {
                if (!told) {
                    LOG.warn(
                            "[{}] waiting to be added to the cluster: run `etcdctl member add {}"
                                    + " --peer-urls={}` against a member",
                            settings.nodeId(),
                            settings.nodeId(),
                            MemberUrls.url(address));
                    told = true;
                }
            } else {
                RaftPeer self =
                        RaftPeer.newBuilder().setId(settings.nodeId()).setAddress(address).build();
                boolean learner = added.get().getIsLearner();
                SetConfigurationRequest.Arguments.Builder args =
                        SetConfigurationRequest.Arguments.newBuilder()
                                .setMode(SetConfigurationRequest.Mode.ADD)
                                .setServersInNewConf(learner ? List.of() : List.of(self))
                                .setListenersInNewConf(learner ? List.of(self) : List.of());
                LOG.info("[{}] joining the cluster as member {}", settings.nodeId(),
                        Long.toHexString(added.get().getId()));
                check(node.client().admin().setConfiguration(args.build()));
                joined.complete(null);
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("[{}] not joined yet: {}", settings.nodeId(), e.toString());
        }
        boolean next = told;
        executor.schedule(() -> joinStep(joined, next), RETRY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Publishes this member's record (its id, name, peer and client URLs) once it is in the
     * configuration; retries until that is done or the node stops. A record already up to date
     * is left alone.
     */
    CompletableFuture<Void> publish(List<String> clientUrls) {
        CompletableFuture<Void> published = new CompletableFuture<>();
        executor.execute(() -> publishStep(published, clientUrls));
        return published;
    }

    private void publishStep(CompletableFuture<Void> published, List<String> clientUrls) {
        if (!node.running()) {
            published.cancel(false);
            return;
        }
        try {
            RaftConfiguration conf = node.configuration();
            if (inConfiguration(conf)) {
                List<MemberRecord> records = await(records());
                String name = settings.nodeId();
                String address = settings.self().address();
                MemberRecord wanted =
                        MemberRecord.newBuilder()
                                .setId(
                                        recordOf(name, address, records)
                                                .map(MemberRecord::getId)
                                                .orElseGet(
                                                        () ->
                                                                Member.initialId(
                                                                        settings.groupId(), name)))
                                .setName(name)
                                .addPeerUrls(MemberUrls.url(address))
                                .addAllClientUrls(clientUrls)
                                .setIsLearner(
                                        conf.getPeer(RaftPeerId.valueOf(name), RaftPeerRole.LISTENER)
                                                != null)
                                .build();
                if (!records.contains(wanted)) {
                    await(propose(wanted));
                    LOG.info(
                            "[{}] published as member {} with client URLs {}",
                            settings.nodeId(),
                            Long.toHexString(wanted.getId()),
                            clientUrls);
                }
                published.complete(null);
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("[{}] not published yet: {}", settings.nodeId(), e.toString());
        }
        executor.schedule(
                () -> publishStep(published, clientUrls), RETRY.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---- helpers: the membership thread ----

    private interface ConfigurationEdit {
        /** Edits the voter and learner lists in place, or throws to refuse. */
        void apply(List<RaftPeer> voters, List<RaftPeer> learners);
    }

    /**
     * Applies {@code edit} to the current configuration with compare-and-set, retrying on a fresh
     * configuration when another change won the race or was still in progress.
     */
    private void changeConfiguration(String what, ConfigurationEdit edit) throws IOException {
        for (int attempt = 1; ; attempt++) {
            RaftConfiguration conf = node.configuration();
            List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
            List<RaftPeer> learners =
                    new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
            List<RaftPeer> newVoters = new ArrayList<>(voters);
            List<RaftPeer> newLearners = new ArrayList<>(learners);
            edit.apply(newVoters, newLearners);
            try {
                check(
                        node.client()
                                .admin()
                                .setConfiguration(
                                        SetConfigurationRequest.Arguments.newBuilder()
                                                .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                                                .setServersInCurrentConf(voters)
                                                .setListenersInCurrentConf(learners)
                                                .setServersInNewConf(newVoters)
                                                .setListenersInNewConf(newLearners)
                                                .build()));
                return;
            } catch (SetConfigurationException | ReconfigurationInProgressException e) {
                if (attempt == CHANGE_ATTEMPTS) {
                    throw e;
                }
                LOG.info("[{}] {}: retrying on a fresh configuration ({})", settings.nodeId(),
                        what, e.getMessage());
                sleepQuietly(RETRY.toMillis() / 4);
            }
        }
    }

    private static void check(RaftClientReply reply) throws IOException {
        if (!reply.isSuccess()) {
            throw reply.getException() != null
                    ? reply.getException()
                    : new IOException("configuration change failed: " + reply);
        }
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

    private static Member find(List<Member> members, long id) {
        return members.stream()
                .filter(m -> m.id() == id)
                .findFirst()
                .orElseThrow(
                        () ->
                                new MembershipException(
                                        Reason.MEMBER_NOT_FOUND,
                                        "member " + Long.toHexString(id) + " not found"));
    }

    private static List<String> addressesOf(List<String> peerUrls) {
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

    private static void refuseTakenAddresses(List<Member> members, List<String> addresses, long except) {
        for (Member member : members) {
            if (member.id() == except) {
                continue;
            }
            for (String url : member.peerUrls()) {
                if (addresses.contains(MemberUrls.address(url))) {
                    throw new MembershipException(
                            Reason.PEER_URL_EXISTS,
                            "peer URL " + url + " belongs to member " + Long.toHexString(member.id()));
                }
            }
        }
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

    private interface Step<T> {
        T run() throws IOException;
    }

    private <T> CompletableFuture<T> onMembershipThread(Step<T> step) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(
                    () -> {
                        try {
                            result.complete(step.run());
                        } catch (IOException | RuntimeException e) {
                            result.completeExceptionally(e);
                        }
                    });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new IllegalStateException("node is stopping", e));
        }
        return result;
    }

    /** Waits on the membership thread for a Raft call, unwrapping its failure. */
    private <T> T await(CompletableFuture<T> call) throws IOException {
        try {
            return call.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (TimeoutException e) {
            throw new IOException("no answer within " + callTimeout, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null
                    ? c.getCause()
                    : e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
