package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.MemberListResponse;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.RaftConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Membership driven step by step on the test's thread: a node whose calls wait until the test
 * answers them, and a scheduler whose time moves only when the test says. Every step returns at
 * once (a step that blocked or slept would hold up the test itself).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MembershipTest {
    private static final UUID GROUP = UUID.fromString("6f1c9a52-4f0e-4a8e-9d7e-0c5b6a1d2e3f");
    private static final RaftPeer N1 = peer("n1", 7481);
    private static final RaftPeer N2 = peer("n2", 7482);
    private static final RaftPeer N4 = peer("n4", 7484);

    private final ManualScheduler scheduler = new ManualScheduler();
    private final TestNode node = new TestNode(new TestConfiguration(List.of(N1, N2), List.of()));

    private Membership membership(String self, int port) {
        List<Peer> peers = new ArrayList<>();
        peers.add(new Peer("n1", "127.0.0.1:7481"));
        peers.add(new Peer("n2", "127.0.0.1:7482"));
        if (peers.stream().noneMatch(p -> p.id().equals(self))) {
            peers.add(new Peer(self, "127.0.0.1:" + port));
        }
        RaftSettings settings =
                RaftSettings.builder(self, peers, GROUP, Path.of("unused"))
                        .requestTimeout(Duration.ofSeconds(5))
                        .build();
        return new Membership(settings, scheduler, node);
    }

    @Test
    void joinWaitsToBeAddedWithoutHoldingTheThreadThenAsksToJoin() {
        Membership membership = membership("n4", 7484);
        CompletableFuture<Void> joined = membership.join();
        scheduler.runReady();
        node.answerMemberList();
        scheduler.runReady();
        assertFalse(joined.isDone(), "not added yet");
        assertEquals(1, scheduler.scheduledCount(), "one retry, a second later");
        assertEquals(0, node.configurationChanges.size());

        node.records = List.of(added(77, 7484, true));
        scheduler.advance(Membership.RETRY);
        node.answerMemberList();
        scheduler.runReady();
        assertEquals(1, node.configurationChanges.size(), "asks to join once added");
        SetConfigurationRequest.Arguments change = node.configurationChanges.peek().change();
        assertEquals(SetConfigurationRequest.Mode.ADD, change.getMode());
        assertEquals(
                List.of("n4@127.0.0.1:7484"),
                names(change.getPeersInNewConf(RaftPeerRole.LISTENER)),
                "as a learner");
        assertEquals(List.of(), names(change.getServersInNewConf()));
        assertFalse(joined.isDone());

        node.answerConfigurationChange(null);
        scheduler.runReady();
        assertTrue(joined.isDone() && !joined.isCompletedExceptionally());
    }

    @Test
    void operationsRunOneAtATimeInTheirOrder() {
        node.records = List.of(added(77, 7484, false));
        Membership membership = membership("n1", 7481);
        CompletableFuture<List<Member>> removed = membership.remove(Member.initialId(GROUP, "n2"));
        CompletableFuture<List<Member>> updated =
                membership.update(77, List.of("http://127.0.0.1:7494"));
        scheduler.runReady();
        assertEquals(1, node.reads.size(), "the update waits for the removal");

        node.answerMemberList();
        scheduler.runReady();
        assertEquals(1, node.configurationChanges.size());
        assertEquals(0, node.reads.size(), "still waiting for the configuration change");
        node.answerConfigurationChange(null);
        scheduler.runReady();
        node.applyProposals();
        scheduler.runReady();
        node.answerMemberList();
        scheduler.runReady();
        assertTrue(removed.isDone() && !removed.isCompletedExceptionally(), removed.toString());

        node.answerMemberList();
        scheduler.runReady();
        node.applyProposals();
        scheduler.runReady();
        node.answerMemberList();
        scheduler.runReady();
        List<Member> after = updated.join();
        Member moved = after.stream().filter(m -> m.id() == 77).findFirst().orElseThrow();
        assertEquals(List.of("http://127.0.0.1:7494"), moved.peerUrls());
    }

    @Test
    void aChangeThatLostARaceIsTriedAgainThenGivesUp() {
        Membership membership = membership("n1", 7481);
        CompletableFuture<List<Member>> removed = membership.remove(Member.initialId(GROUP, "n2"));
        for (int attempt = 1; attempt <= Membership.CHANGE_ATTEMPTS; attempt++) {
            scheduler.runReady();
            node.answerMemberList();
            scheduler.runReady();
            assertEquals(1, node.configurationChanges.size(), "attempt " + attempt);
            node.answerConfigurationChange(
                    new SetConfigurationException("stale, attempt " + attempt));
            scheduler.runReady();
            assertEquals(attempt < Membership.CHANGE_ATTEMPTS, !removed.isDone());
            scheduler.advance(Membership.CHANGE_RETRY);
        }
        ExecutionException failure = assertFailed(removed);
        assertInstanceOf(SetConfigurationException.class, failure.getCause());
        assertTrue(
                failure.getCause().getMessage().contains("attempt " + Membership.CHANGE_ATTEMPTS));
    }

    @Test
    void stopFailsEveryOutstandingOperationAndNothingRunsAfter() {
        Membership membership = membership("n4", 7484);
        node.configuration = new TestConfiguration(List.of(N1, N2), List.of());
        CompletableFuture<Void> joined = membership.join();
        scheduler.runReady();
        node.answerMemberList();
        scheduler.runReady();
        // The join waits for its retry; an add is under way, more wait behind it.
        CompletableFuture<Member> add = membership.add(List.of("http://127.0.0.1:7485"), false);
        CompletableFuture<List<Member>> remove = membership.remove(1);
        CompletableFuture<Member> promote = membership.promote(2);
        CompletableFuture<List<Member>> update = membership.update(3, List.of("http://h:1"));
        CompletableFuture<Void> published = membership.publish(List.of("http://127.0.0.1:2379"));
        scheduler.runReady();
        assertEquals(1, node.reads.size(), "the add is reading the members");
        int calls = node.calls;
        int scheduled = scheduler.scheduledCount();

        membership.stop();
        scheduler.runReady();
        for (CompletableFuture<?> future :
                List.of(joined, add, remove, promote, update, published)) {
            ExecutionException failure = assertFailed(future);
            IllegalStateException stopping =
                    assertInstanceOf(IllegalStateException.class, failure.getCause());
            assertTrue(
                    stopping.getMessage().startsWith("member n4 is stopping"),
                    stopping.getMessage());
        }

        node.answerMemberList();
        scheduler.advance(Duration.ofMinutes(1));
        assertEquals(calls, node.calls, "no call after the stop");
        assertEquals(scheduled, scheduler.scheduledCount(), "no retry after the stop");
        CompletableFuture<Member> late = membership.add(List.of("http://127.0.0.1:7486"), false);
        scheduler.runReady();
        assertInstanceOf(IllegalStateException.class, assertFailed(late).getCause());
        scheduler.shutDown();
        CompletableFuture<Void> afterShutdown = membership.join();
        assertInstanceOf(IllegalStateException.class, assertFailed(afterShutdown).getCause());
    }

    @Test
    void theLocalViewIsBuiltOncePerChangeOfMembership() {
        Membership membership = membership("n1", 7481);
        List<Member> first = membership.localView();
        assertSame(first, membership.localView(), "nothing changed: the same view");
        assertEquals(Member.initialId(GROUP, "n1"), membership.memberIdOf("n1"));

        node.records = List.of(added(77, 7484, false));
        List<Member> withRecord = membership.localView();
        assertNotSame(first, withRecord);
        assertEquals(3, withRecord.size());
        assertSame(withRecord, membership.localView());

        node.configuration = new TestConfiguration(List.of(N1, N2), List.of(N4));
        List<Member> withLearner = membership.localView();
        assertNotSame(withRecord, withLearner);
        assertEquals(
                77, membership.memberIdOf("n4"), "a started member keeps the id it was added with");
    }

    private static ExecutionException assertFailed(CompletableFuture<?> future) {
        assertTrue(future.isCompletedExceptionally(), future.toString());
        try {
            future.get();
            throw new AssertionError("failed future answered");
        } catch (ExecutionException e) {
            return e;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> names(Collection<RaftPeer> peers) {
        return peers.stream().map(p -> p.getId() + "@" + p.getAddress()).toList();
    }

    private static MemberRecord added(long id, int port, boolean learner) {
        return MemberRecord.newBuilder()
                .setId(id)
                .addPeerUrls("http://127.0.0.1:" + port)
                .setIsLearner(learner)
                .build();
    }

    private static RaftPeer peer(String id, int port) {
        return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + port).build();
    }

    /** A fixed Ratis configuration of voters and learners. */
    private record TestConfiguration(List<RaftPeer> voters, List<RaftPeer> learners)
            implements RaftConfiguration {
        @Override
        public RaftPeer getPeer(RaftPeerId id, RaftPeerRole... roles) {
            List<RaftPeerRole> wanted =
                    roles.length == 0 ? List.of(RaftPeerRole.FOLLOWER) : Arrays.asList(roles);
            for (RaftPeerRole role : wanted) {
                for (RaftPeer peer : getCurrentPeers(role)) {
                    if (peer.getId().equals(id)) {
                        return peer;
                    }
                }
            }
            return null;
        }

        @Override
        public Collection<RaftPeer> getAllPeers(RaftPeerRole role) {
            return getCurrentPeers(role);
        }

        @Override
        public Collection<RaftPeer> getCurrentPeers(RaftPeerRole role) {
            return switch (role) {
                case FOLLOWER -> voters;
                case LISTENER -> learners;
                default -> List.of();
            };
        }

        @Override
        public Collection<RaftPeer> getPreviousPeers(RaftPeerRole role) {
            return List.of();
        }

        @Override
        public long getLogEntryIndex() {
            return 0;
        }
    }

    /**
     * The node as membership sees it: its configuration and applied records are fields the test
     * sets; every call waits in a queue until the test answers it. Test thread only.
     */
    private static final class TestNode implements Membership.Node {
        record Change(SetConfigurationRequest.Arguments change, CompletableFuture<Void> answer) {}

        record Proposal(Command command, CompletableFuture<CommandResult> answer) {}

        volatile RaftConfiguration configuration;
        volatile List<MemberRecord> records = List.of();
        final Queue<CompletableFuture<QueryResult>> reads = new ArrayDeque<>();
        final Queue<Proposal> proposals = new ArrayDeque<>();
        final Queue<Change> configurationChanges = new ArrayDeque<>();
        int calls;

        TestNode(RaftConfiguration configuration) {
            this.configuration = configuration;
        }

        @Override
        public RaftConfiguration configuration() {
            return configuration;
        }

        @Override
        public List<MemberRecord> localRecords() {
            return records;
        }

        @Override
        public CompletableFuture<CommandResult> propose(Command command) {
            calls++;
            CompletableFuture<CommandResult> answer = new CompletableFuture<>();
            proposals.add(new Proposal(command, answer));
            return answer;
        }

        @Override
        public CompletableFuture<QueryResult> linearizable(Query query) {
            calls++;
            assertTrue(query.hasMemberList(), query.toString());
            CompletableFuture<QueryResult> answer = new CompletableFuture<>();
            reads.add(answer);
            return answer;
        }

        @Override
        public CompletableFuture<Void> setConfiguration(SetConfigurationRequest.Arguments change) {
            calls++;
            CompletableFuture<Void> answer = new CompletableFuture<>();
            configurationChanges.add(new Change(change, answer));
            return answer;
        }

        /** Answers every waiting member list read with the records as they are. */
        void answerMemberList() {
            CompletableFuture<QueryResult> read;
            while ((read = reads.poll()) != null) {
                read.complete(
                        QueryResult.newBuilder()
                                .setMemberList(
                                        MemberListResponse.newBuilder().addAllMembers(records))
                                .build());
            }
        }

        /** Applies every waiting proposal of a member record, as the log would. */
        void applyProposals() {
            Proposal proposal;
            while ((proposal = proposals.poll()) != null) {
                List<MemberRecord> next = new ArrayList<>(records);
                Command command = proposal.command();
                if (command.hasMemberPut()) {
                    MemberRecord put = command.getMemberPut().getMember();
                    next.removeIf(r -> r.getId() == put.getId());
                    next.add(put);
                } else {
                    next.removeIf(r -> r.getId() == command.getMemberDelete().getId());
                }
                records = List.copyOf(next);
                proposal.answer().complete(CommandResult.getDefaultInstance());
            }
        }

        /** Answers the oldest configuration change: in effect when {@code refusal} is null. */
        void answerConfigurationChange(Exception refusal) {
            Change change = configurationChanges.remove();
            if (refusal != null) {
                change.answer().completeExceptionally(refusal);
                return;
            }
            configuration =
                    new TestConfiguration(
                            List.copyOf(change.change().getServersInNewConf()),
                            List.copyOf(change.change().getPeersInNewConf(RaftPeerRole.LISTENER)));
            change.answer().complete(null);
        }
    }
}
