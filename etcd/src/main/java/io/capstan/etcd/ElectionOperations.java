package io.capstan.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import io.capstan.etcd.api.election.CampaignRequest;
import io.capstan.etcd.api.election.CampaignResponse;
import io.capstan.etcd.api.election.LeaderKey;
import io.capstan.etcd.api.election.LeaderRequest;
import io.capstan.etcd.api.election.LeaderResponse;
import io.capstan.etcd.api.election.ProclaimRequest;
import io.capstan.etcd.api.election.ProclaimResponse;
import io.capstan.etcd.api.election.ResignRequest;
import io.capstan.etcd.api.election.ResignResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * etcd's Election calls ({@code v3electionpb.Election}), shared by the gRPC service and the JSON
 * gateway, as etcd's election server runs its election recipe: the election {@code name} is the
 * queue of keys under {@code name/} ({@link KeyQueue}), and its leader is the key with the lowest
 * create revision there, whose value is the leader's proclamation.
 *
 * <ul>
 *   <li>Campaign queues {@code name/<lease in hex>} with the value (an existing key of the same
 *       lease keeps its place and takes the value) and answers once it leads, with the {@link
 *       LeaderKey} that proves it: name, key, create revision, lease.
 *   <li>Proclaim puts a new value on the leader key only while it still has that create revision,
 *       else {@code election: not leader}; Resign deletes it on the same condition (and is no error
 *       otherwise, as in etcd).
 *   <li>Leader reads the first key, or fails with {@code election: no leader}.
 *   <li>Observe streams the leader's key-value whenever leadership or its value changes (see {@link
 *       LeaderObserver}).
 * </ul>
 *
 * <p>Futures complete on the API executor and fail only with {@link EtcdException}, worded as
 * etcd's election server words them: UNKNOWN with etcd's text ({@link EtcdErrors#viaClient}).
 * Immutable; safe on any thread.
 */
final class ElectionOperations {

    private static final ByteString SEPARATOR = ByteString.copyFromUtf8("/");

    private final KeyQueue queue;
    private final KvOperations kv;
    private final WatchStream.Watches watches;
    private final RaftCalls raft;
    private final Executor executor;
    private final OpenStreams streams;

    /**
     * @param executor the API executor, which runs an observer's retried reads
     * @param streams where observers are open, so that a stopping member ends them
     */
    ElectionOperations(
            KeyQueue queue,
            KvOperations kv,
            WatchStream.Watches watches,
            RaftCalls raft,
            Executor executor,
            OpenStreams streams) {
        this.queue = queue;
        this.kv = kv;
        this.watches = watches;
        this.raft = raft;
        this.executor = executor;
        this.streams = streams;
    }

    /**
     * Waits until the caller leads. Cancel the future when the caller goes away: it leaves the
     * queue, and a leadership it just won is resigned (see {@link KeyQueue#answer}).
     */
    CompletableFuture<CampaignResponse> campaign(CampaignRequest request) {
        CompletableFuture<KeyQueue.Place> joined =
                queue.join(
                        prefix(request.getName()),
                        request.getLease(),
                        request.getValue(),
                        true,
                        EtcdErrors.ELECTION_NOT_LEADER);
        return queue.answer(
                joined,
                place ->
                        CampaignResponse.newBuilder()
                                .setHeader(place.header())
                                .setLeader(
                                        LeaderKey.newBuilder()
                                                .setName(request.getName())
                                                .setKey(place.key())
                                                .setRev(place.createRevision())
                                                .setLease(place.lease()))
                                .build());
    }

    CompletableFuture<ProclaimResponse> proclaim(ProclaimRequest request) {
        if (!request.hasLeader()) {
            return CompletableFuture.failedFuture(EtcdErrors.LEADER_KEY_MISSING.toException());
        }
        LeaderKey leader = request.getLeader();
        RequestOp put =
                RequestOp.newBuilder()
                        .setRequestPut(
                                PutRequest.newBuilder()
                                        .setKey(leader.getKey())
                                        .setValue(request.getValue())
                                        .setLease(leader.getLease()))
                        .build();
        return whileLeading(
                leader,
                put,
                response -> {
                    if (!response.getSucceeded()) {
                        throw EtcdErrors.ELECTION_NOT_LEADER.toException();
                    }
                    return ProclaimResponse.newBuilder().setHeader(response.getHeader()).build();
                });
    }

    CompletableFuture<ResignResponse> resign(ResignRequest request) {
        if (!request.hasLeader()) {
            return CompletableFuture.failedFuture(EtcdErrors.LEADER_KEY_MISSING.toException());
        }
        RequestOp delete =
                RequestOp.newBuilder()
                        .setRequestDeleteRange(
                                DeleteRangeRequest.newBuilder()
                                        .setKey(request.getLeader().getKey()))
                        .build();
        return whileLeading(
                request.getLeader(),
                delete,
                response -> ResignResponse.newBuilder().setHeader(response.getHeader()).build());
    }

    CompletableFuture<LeaderResponse> leader(LeaderRequest request) {
        return kv.range(KeyQueue.first(prefix(request.getName())))
                .handle(
                        (response, error) -> {
                            if (error != null) {
                                throw EtcdErrors.viaClient(error).toException();
                            }
                            if (response.getKvsCount() == 0) {
                                throw EtcdErrors.ELECTION_NO_LEADER.toException();
                            }
                            return LeaderResponse.newBuilder()
                                    .setHeader(response.getHeader())
                                    .setKv(response.getKvs(0))
                                    .build();
                        });
    }

    /**
     * A new observer of {@code request}'s election, sending to {@code out}; the caller {@linkplain
     * LeaderObserver#start starts} it.
     */
    LeaderObserver observer(LeaderRequest request, LeaderObserver.Outbound out) {
        return new LeaderObserver(
                prefix(request.getName()), kv, watches, raft, executor, out, streams);
    }

    /**
     * Runs {@code op} if the leader key still has its create revision, and answers with {@code
     * response}.
     */
    private <R> CompletableFuture<R> whileLeading(
            LeaderKey leader, RequestOp op, Function<TxnResponse, R> response) {
        TxnRequest txn =
                TxnRequest.newBuilder()
                        .addCompare(KeyQueue.createdAt(leader.getKey(), leader.getRev()))
                        .addSuccess(op)
                        .build();
        return kv.txn(txn)
                .handle(
                        (result, error) -> {
                            if (error != null) {
                                throw EtcdErrors.viaClient(error).toException();
                            }
                            return response.apply(result);
                        });
    }

    private static ByteString prefix(ByteString name) {
        return name.concat(SEPARATOR);
    }
}
