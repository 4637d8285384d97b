package io.capstan.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.ResponseHeader;
import io.capstan.raft.AuthState;
import io.capstan.raft.KeyspaceException;
import io.capstan.raft.KeyspaceNode;
import io.capstan.raft.Member;
import io.capstan.raft.MemberAdmin;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RangeRequest;
import io.grpc.Context;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.MDC;

/**
 * The etcd API's way into the Raft node: proposals and queries whose futures complete on the API
 * executor (never on a Ratis thread) and fail only with {@link EtcdException}, and the response
 * header every answer carries. Holds only immutable references; safe on any thread.
 */
final class RaftCalls {

    /**
     * A key no range covers by itself; a point read of it costs one lookup and returns the
     * revision.
     */
    private static final ByteString PROBE_KEY = ByteString.copyFrom(new byte[] {0});

    private final KeyspaceNode node;
    private final MemberAdmin admin;
    private final long clusterId;
    private final Executor executor;
    private final SpaceQuota quota;

    /**
     * @param clusterId etcd's cluster id, the same on every member (see {@link Member#clusterId})
     * @param quota refuses proposals that add data while this member's disk is short
     */
    RaftCalls(
            KeyspaceNode node,
            MemberAdmin admin,
            long clusterId,
            Executor executor,
            SpaceQuota quota) {
        this.node = node;
        this.admin = admin;
        this.clusterId = clusterId;
        this.executor = executor;
        this.quota = quota;
    }

    /** The etcd member id of the member called {@code name}, as this member knows it. */
    long memberIdOf(String name) {
        return node.memberIdOf(name);
    }

    /** Runs any other call of the node, completed and failed as {@link #propose} is. */
    <T> CompletableFuture<T> call(Function<KeyspaceNode, CompletableFuture<T>> call) {
        return onApiExecutor(() -> call.apply(node));
    }

    /** Runs a call of the cluster's administration, completed and failed as {@link #propose} is. */
    <T> CompletableFuture<T> admin(Function<MemberAdmin, CompletableFuture<T>> call) {
        return onApiExecutor(() -> call.apply(admin));
    }

    NodeStatus status() {
        return node.status();
    }

    /**
     * Proposes {@code command} on behalf of the running request's caller ({@link Callers}), whom
     * the auth state checks as the command applies. A learner refuses it, as etcd's learners do: it
     * does not take part in the quorum that decides. A command that adds data is refused with
     * etcd's NOSPACE error while this member's data directory is short of space ({@link
     * SpaceQuota}).
     */
    CompletableFuture<CommandResult> propose(Command command) {
        Command asCaller = command.toBuilder().setCaller(Callers.current()).build();
        return onApiExecutor(
                () -> {
                    if (learner()) {
                        return refusedByLearner();
                    }
                    quota.check(asCaller);
                    return node.propose(asCaller);
                });
    }

    /**
     * Runs {@code query} on behalf of the running request's caller, checked as it is answered. A
     * learner answers only serializable queries, as etcd's learners do.
     */
    CompletableFuture<QueryResult> query(Query query, ReadConsistency consistency) {
        Query asCaller = query.toBuilder().setCaller(Callers.current()).build();
        return onApiExecutor(
                () ->
                        consistency == ReadConsistency.LINEARIZABLE && learner()
                                ? refusedByLearner()
                                : node.query(asCaller, consistency));
    }

    /**
     * Refuses the running request unless its caller may {@code access} the range, by this member's
     * applied auth state: for what never reaches the log, such as a watch.
     */
    void checkKeys(AuthState.Access access, ByteString key, ByteString rangeEnd) {
        try {
            node.auth().checkKeys(Callers.current(), access, key, rangeEnd);
        } catch (KeyspaceException e) {
            throw EtcdErrors.fromRaft(e, node.status());
        }
    }

    /**
     * Runs {@code call} if the running request's caller holds the root role (or auth is off), else
     * fails.
     */
    <T> CompletableFuture<T> asAdmin(Supplier<CompletableFuture<T>> call) {
        return guarded(
                () -> {
                    checkAdmin();
                    return call.get();
                });
    }

    /** Refuses the running request unless its caller holds the root role (or auth is off). */
    void checkAdmin() {
        try {
            node.auth().checkAdmin(Callers.current());
        } catch (KeyspaceException e) {
            throw EtcdErrors.fromRaft(e, node.status());
        }
    }

    private boolean learner() {
        return node.status().role() == NodeStatus.Role.LISTENER;
    }

    private static <T> CompletableFuture<T> refusedByLearner() {
        return CompletableFuture.failedFuture(EtcdErrors.NOT_SUPPORTED_FOR_LEARNER.toException());
    }

    /**
     * This member's latest applied revision, read locally; the member's own read, not the caller's.
     */
    CompletableFuture<Long> currentRevision() {
        Query probe =
                Query.newBuilder().setRange(RangeRequest.newBuilder().setKey(PROBE_KEY)).build();
        return onApiExecutor(() -> node.query(probe, ReadConsistency.SERIALIZABLE))
                .thenApply(QueryResult::getRevision);
    }

    /**
     * This member's latest applied revision, read at once on the calling thread, without a barrier.
     */
    long appliedRevision() {
        return node.appliedRevision();
    }

    /**
     * The header of an answer at {@code revision}: cluster, this member, and the current Raft term.
     */
    ResponseHeader header(long revision) {
        return ResponseHeader.newBuilder()
                .setClusterId(clusterId)
                .setMemberId(node.memberId())
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
        // The caller's log context (its request id) and its gRPC context (who it is) go with the
        // outcome to the API executor, so the work that follows runs as the same caller.
        Map<String, String> logContext = MDC.getCopyOfContextMap();
        Context callerContext = Context.current();
        CompletableFuture<T> result = new CompletableFuture<>();
        CompletableFuture<T> raft;
        try {
            raft = call.get();
        } catch (RuntimeException e) {
            raft = CompletableFuture.failedFuture(e);
        }
        raft.whenComplete(
                (value, error) -> {
                    try {
                        executor.execute(
                                callerContext.wrap(
                                        inLogContext(
                                                logContext,
                                                () -> {
                                                    if (error == null) {
                                                        result.complete(value);
                                                    } else {
                                                        result.completeExceptionally(
                                                                EtcdErrors.fromRaft(
                                                                        error, node.status()));
                                                    }
                                                })));
                    } catch (RejectedExecutionException e) {
                        // The executor closes only when the API stops.
                        result.completeExceptionally(EtcdErrors.STOPPED.toException());
                    }
                });
        return result;
    }

    /**
     * {@code task}, run with {@code context} as the MDC and the thread's own MDC restored after.
     */
    static Runnable inLogContext(Map<String, String> context, Runnable task) {
        return () -> {
            Map<String, String> own = MDC.getCopyOfContextMap();
            MDC.setContextMap(context == null ? Map.of() : context);
            try {
                task.run();
            } finally {
                MDC.setContextMap(own == null ? Map.of() : own);
            }
        };
    }
}
