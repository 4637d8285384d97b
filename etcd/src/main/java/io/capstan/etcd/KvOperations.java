package io.capstan.etcd;

import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.CompactionResponse;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.DeleteRangeResponse;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Query;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's KV calls over the Raft node, shared by the gRPC service and the JSON gateway. Each call
 * checks the request as etcd does, converts it, proposes or queries it, and answers with etcd's
 * response and a full header. Reads are linearizable unless the request asks for {@code
 * serializable}; writes, read-only transactions included, go through the log. Futures complete on
 * the API executor and fail only with {@link EtcdException}. Immutable; safe on any thread.
 */
final class KvOperations {

    private final RaftCalls raft;
    private final RequestChecks checks;

    KvOperations(RaftCalls raft, RequestChecks checks) {
        this.raft = raft;
        this.checks = checks;
    }

    CompletableFuture<RangeResponse> range(RangeRequest request) {
        return RaftCalls.guarded(
                () -> {
                    checks.range(request);
                    Query query =
                            Query.newBuilder()
                                    .setRange(
                                            Wire.toRaft(
                                                    request,
                                                    io.capstan.raft.proto.RangeRequest.parser()))
                                    .build();
                    ReadConsistency consistency =
                            request.getSerializable()
                                    ? ReadConsistency.SERIALIZABLE
                                    : ReadConsistency.LINEARIZABLE;
                    return raft.query(query, consistency)
                            .thenApply(
                                    result ->
                                            Wire.toEtcd(
                                                            result.getRange(),
                                                            RangeResponse.newBuilder())
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }

    CompletableFuture<PutResponse> put(PutRequest request) {
        return RaftCalls.guarded(
                () -> {
                    checks.put(request);
                    Command command =
                            Command.newBuilder()
                                    .setPut(
                                            Wire.toRaft(
                                                    request,
                                                    io.capstan.raft.proto.PutRequest.parser()))
                                    .build();
                    return raft.propose(command)
                            .thenApply(
                                    result ->
                                            Wire.toEtcd(result.getPut(), PutResponse.newBuilder())
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }

    CompletableFuture<DeleteRangeResponse> deleteRange(DeleteRangeRequest request) {
        return RaftCalls.guarded(
                () -> {
                    checks.deleteRange(request);
                    Command command =
                            Command.newBuilder()
                                    .setDeleteRange(
                                            Wire.toRaft(
                                                    request,
                                                    io.capstan.raft.proto.DeleteRangeRequest
                                                            .parser()))
                                    .build();
                    return raft.propose(command)
                            .thenApply(
                                    result ->
                                            Wire.toEtcd(
                                                            result.getDeleteRange(),
                                                            DeleteRangeResponse.newBuilder())
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }

    /**
     * The transaction's header is complete; the responses of the operations inside carry only the
     * revision each saw, as etcd's do (see {@link TxnHeaders}).
     */
    CompletableFuture<TxnResponse> txn(TxnRequest request) {
        return RaftCalls.guarded(
                () -> {
                    checks.txn(request);
                    Command command =
                            Command.newBuilder()
                                    .setTxn(
                                            Wire.toRaft(
                                                    request,
                                                    io.capstan.raft.proto.TxnRequest.parser()))
                                    .build();
                    return raft.propose(command)
                            .thenApply(
                                    result ->
                                            TxnHeaders.fill(
                                                            Wire.toEtcd(
                                                                    result.getTxn(),
                                                                    TxnResponse.newBuilder()),
                                                            result.getRevision())
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }

    /**
     * Compaction is always physical here (the keyspace drops history at once), so {@code physical}
     * is accepted and needs no wait. Any revision goes through the log, as in etcd, whose rules the
     * keyspace applies: 0 is accepted once on a store never compacted, a negative revision is
     * compacted.
     */
    CompletableFuture<CompactionResponse> compact(CompactionRequest request) {
        return RaftCalls.guarded(
                () -> {
                    Command command =
                            Command.newBuilder()
                                    .setCompaction(
                                            Wire.toRaft(
                                                    request,
                                                    io.capstan.raft.proto.CompactionRequest
                                                            .parser()))
                                    .build();
                    return raft.propose(command)
                            .thenApply(
                                    result ->
                                            CompactionResponse.newBuilder()
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }
}
