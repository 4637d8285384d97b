package io.capstan.etcd;

import io.capstan.etcd.api.lock.LockGrpc;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.LockResponse;
import io.capstan.etcd.api.lock.UnlockRequest;
import io.capstan.etcd.api.lock.UnlockResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lock gRPC service: each call handed to {@link LockOperations}. A Lock whose call is
 * cancelled (by the client, its deadline or its connection closing) cancels its wait, which leaves
 * nothing behind. Immutable; gRPC calls it on the API executor.
 */
final class LockService extends LockGrpc.LockImplBase {

    private final LockOperations locks;

    LockService(LockOperations locks) {
        this.locks = locks;
    }

    @Override
    public void lock(LockRequest request, StreamObserver<LockResponse> responses) {
        CompletableFuture<LockResponse> reply = locks.lock(request);
        ((ServerCallStreamObserver<LockResponse>) responses)
                .setOnCancelHandler(() -> reply.cancel(false));
        Replies.send(reply, responses);
    }

    @Override
    public void unlock(UnlockRequest request, StreamObserver<UnlockResponse> responses) {
        Replies.send(locks.unlock(request), responses);
    }
}
