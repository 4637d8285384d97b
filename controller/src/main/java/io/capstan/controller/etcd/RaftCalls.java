package io.capstan.controller.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.ResponseHeader;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RangeRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The etcd API's way into the Raft node: proposals and queries whose futures complete on the API
 * executor (never on a Ratis thread) and fail only with {@link EtcdException}, and the response
 * header every answer carries. Holds only immutable references; safe on any thread.
 */
final class RaftCalls {

    /** A key no range covers by itself; a point read of it costs one lookup and returns the revision. */
    private static final ByteString PROBE_KEY = ByteString.copyFrom(new byte[] {0});

    private final RaftNode node;
    private final ClusterIdentity identity;
    private final Executor executor;

    RaftCalls(RaftNode node, ClusterIdentity identity, Executor executor) {
        this.node = node;
        this.identity = identity;
        this.executor = executor;
    }

    ClusterIdentity identity() {
        return identity;
    }

    NodeStatus status() {
        return node.status();
    }

    CompletableFuture<CommandResult> propose(Command command) {
        return onApiExecutor(() -> node.propose(command));
    }

    CompletableFuture<QueryResult> query(Query query, ReadConsistency consistency) {
        return onApiExecutor(() -> node.query(query, consistency));
    }

    /** This member's latest applied revision, read locally. */
    CompletableFuture<Long> currentRevision() {
        Query probe = Query.newBuilder().setRange(RangeRequest.newBuilder().setKey(PROBE_KEY)).build();
        return query(probe, ReadConsistency.SERIALIZABLE).thenApply(QueryResult::getRevision);
    }

    /** The header of an answer at {@code revision}: cluster, this member, and the current Raft term. */
    ResponseHeader header(long revision) {
        return ResponseHeader.newBuilder()
                .setClusterId(identity.clusterId())
                .setMemberId(identity.memberId())
                .setRevision(revision)
                .setRaftTerm(node.status().term())
                .build();
    }

    /**
     * Runs a call that starts with checks: an {@link EtcdException} they throw becomes a failed
     * future, so a refusal reaches the caller the way every other failure does.
     */
    static <T> CompletableFuture<T> guarded(Supplier<CompletableFuture<T>> call) {
        try {
            return call.get();
        } catch (EtcdException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Runs {@code call} and completes its outcome on the API executor, failures translated by
     * {@link EtcdErrors}.
     */
    private <T> CompletableFuture<T> onApiExecutor(Supplier<CompletableFuture<T>> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        CompletableFuture<T> raft;
        try {
            raft = call.get();
        } catch (RuntimeException e) {
            raft = CompletableFuture.failedFuture(e);
        }
        raft.whenComplete((value, error) -> {
            try {
                executor.execute(() -> {
                    if (error == null) {
                        result.complete(value);
                    } else {
                        result.completeExceptionally(EtcdErrors.fromRaft(error, node.status()));
                    }
                });
            } catch (RejectedExecutionException e) {
                // The executor closes only when the API stops.
                result.completeExceptionally(EtcdErrors.STOPPED.toException());
            }
        });
        return result;
    }
}
