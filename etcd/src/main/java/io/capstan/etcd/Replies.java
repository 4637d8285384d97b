package io.capstan.etcd;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/** Completes a unary gRPC call from a future of this package. Stateless. */
final class Replies {

    private Replies() {}

    /**
     * Sends the future's value, or its failure as etcd's status, once it completes; a future
     * cancelled because its call was cancelled has no one to answer. gRPC allows one thread at a
     * time on a call's observer; a unary call has only this one writer.
     */
    static <T> void send(CompletableFuture<T> reply, StreamObserver<T> responses) {
        reply.whenComplete(
                (value, error) -> {
                    if (error instanceof CancellationException) {
                        return;
                    }
                    if (error == null) {
                        responses.onNext(value);
                        responses.onCompleted();
                    } else {
                        responses.onError(EtcdErrors.of(error).toStatusException());
                    }
                });
    }
}
