package io.capstan.raft;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.SnapshotInfo;

/**
 * The administration of a {@link RaftNode}: membership changes through its {@link Membership},
 * leadership transfer and snapshots through its Ratis server. Every call fails with an {@link
 * IllegalStateException} while the node is not running. Holds no mutable state but the id of its
 * next admin request (an atomic); any thread.
 */
final class RaftAdmin implements MemberAdmin {
    private final RaftNode node;
    private final Membership membership;
    private final RaftPeerId selfId;
    private final RaftGroupId groupId;
    private final Duration requestTimeout;
    private final ClientId adminClientId = ClientId.randomId();
    private final AtomicLong adminCallId = new AtomicLong();

    RaftAdmin(
            RaftNode node,
            Membership membership,
            RaftPeerId selfId,
            RaftGroupId groupId,
            Duration requestTimeout) {
        this.node = node;
        this.membership = membership;
        this.selfId = selfId;
        this.groupId = groupId;
        this.requestTimeout = requestTimeout;
    }

    @Override
    public CompletableFuture<Long> takeSnapshot() {
        RaftServer s = node.runningServer();
        if (s == null) {
            return node.notRunning();
        }
        node.snapshotRequested();
        SnapshotManagementRequest request =
                SnapshotManagementRequest.newCreate(
                        adminClientId,
                        selfId,
                        groupId,
                        adminCallId.incrementAndGet(),
                        requestTimeout.toMillis(),
                        1);
        return s.snapshotManagementAsync(request)
                .thenApply(
                        reply -> {
                            if (!reply.isSuccess()) {
                                throw new CompletionException(reply.getException());
                            }
                            return reply.getLogIndex();
                        });
    }

    /**
     * {@link #takeSnapshot} reuses the latest snapshot when nothing was applied since. Should Raft
     * delete the file before it is opened (newer snapshots were taken meanwhile), it takes another,
     * three times at most. Ratis takes none while nothing was applied past its latest snapshot, so
     * a member with no snapshot and no command applied yet (a new cluster) first has an empty
     * transaction committed (it changes nothing, not even the revision) and applied here, which
     * needs a leader.
     */
    @Override
    public CompletableFuture<SnapshotExport> exportSnapshot() {
        return exportSnapshot(3);
    }

    private CompletableFuture<SnapshotExport> exportSnapshot(int attempts) {
        return takeSnapshot()
                .thenCompose(
                        index -> {
                            SnapshotInfo latest = node.latestSnapshot();
                            if ((latest == null || latest.getFiles().isEmpty()) && attempts > 1) {
                                return node.propose(ReadRounds.NOTHING)
                                        .thenCompose(
                                                committed ->
                                                        node.query(
                                                                ReadRounds.CATCH_UP,
                                                                ReadConsistency.LINEARIZABLE))
                                        .thenCompose(applied -> exportSnapshot(attempts - 1));
                            }
                            if (latest == null || latest.getFiles().isEmpty()) {
                                return CompletableFuture.failedFuture(
                                        new IllegalStateException(
                                                "member " + node.nodeId() + " has no snapshot"));
                            }
                            try {
                                return CompletableFuture.completedFuture(
                                        SnapshotExport.open(
                                                latest.getFiles().get(0).getPath(),
                                                latest.getIndex()));
                            } catch (NoSuchFileException e) {
                                return attempts > 1
                                        ? exportSnapshot(attempts - 1)
                                        : CompletableFuture.failedFuture(e);
                            } catch (IOException e) {
                                return CompletableFuture.failedFuture(e);
                            }
                        });
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String nodeId) {
        RaftServer s = node.runningServer();
        if (s == null) {
            return node.notRunning();
        }
        TransferLeadershipRequest request =
                new TransferLeadershipRequest(
                        adminClientId,
                        selfId,
                        groupId,
                        adminCallId.incrementAndGet(),
                        RaftPeerId.valueOf(nodeId),
                        requestTimeout.toMillis());
        try {
            return s.transferLeadershipAsync(request)
                    .thenApply(
                            reply -> {
                                if (!reply.isSuccess()) {
                                    throw new CompletionException(reply.getException());
                                }
                                return null;
                            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<List<Member>> members(ReadConsistency consistency) {
        if (node.runningServer() == null) {
            return node.notRunning();
        }
        if (consistency == ReadConsistency.SERIALIZABLE) {
            return CompletableFuture.supplyAsync(membership::localView, Runnable::run);
        }
        return membership.members();
    }

    @Override
    public CompletableFuture<Member> addMember(List<String> peerUrls, boolean learner) {
        return node.runningServer() == null
                ? node.notRunning()
                : guarded(() -> membership.add(peerUrls, learner));
    }

    @Override
    public CompletableFuture<List<Member>> removeMember(long id) {
        return node.runningServer() == null ? node.notRunning() : membership.remove(id);
    }

    @Override
    public CompletableFuture<Member> promoteMember(long id) {
        return node.runningServer() == null ? node.notRunning() : membership.promote(id);
    }

    @Override
    public CompletableFuture<List<Member>> updateMember(long id, List<String> peerUrls) {
        return node.runningServer() == null
                ? node.notRunning()
                : guarded(() -> membership.update(id, peerUrls));
    }

    private static <T> CompletableFuture<T> guarded(Supplier<CompletableFuture<T>> call) {
        try {
            return call.get();
        } catch (MembershipException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
