package io.capstan.etcd;

import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.CompactionResponse;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.DeleteRangeResponse;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import io.grpc.stub.StreamObserver;

/**
 * etcd's KV gRPC service: each call handed to {@link KvOperations}. Immutable; gRPC calls it on the
 * API executor.
 */
final class KvService extends KVGrpc.KVImplBase {

    private final KvOperations kv;

    KvService(KvOperations kv) {
        this.kv = kv;
    }

    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> responses) {
        Replies.send(kv.range(request), responses);
    }

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> responses) {
        Replies.send(kv.put(request), responses);
    }

    @Override
    public void deleteRange(
            DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> responses) {
        Replies.send(kv.deleteRange(request), responses);
    }

    @Override
    public void txn(TxnRequest request, StreamObserver<TxnResponse> responses) {
        Replies.send(kv.txn(request), responses);
    }

    @Override
    public void compact(CompactionRequest request, StreamObserver<CompactionResponse> responses) {
        Replies.send(kv.compact(request), responses);
    }
}
