package io.capstan.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.LockResponse;
import io.capstan.etcd.api.lock.UnlockRequest;
import io.capstan.etcd.api.lock.UnlockResponse;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lock calls ({@code v3lockpb.Lock}), shared by the gRPC service and the JSON gateway, as
 * etcd's lock server runs its mutex recipe: the lock {@code name} is the queue of keys under {@code
 * name/} ({@link KeyQueue}), and the caller holds it while its key, {@code name/<lease in hex>}
 * with an empty value, has the lowest create revision there. Lock answers once it does, with that
 * key; Unlock deletes a key. Futures complete on the API executor and fail only with {@link
 * EtcdException}, worded as etcd's lock server words them ({@link EtcdErrors#viaClient}).
 * Immutable; safe on any thread.
 */
final class LockOperations {

    private static final ByteString SEPARATOR = ByteString.copyFromUtf8("/");

    private final KeyQueue queue;
    private final KvOperations kv;

    LockOperations(KeyQueue queue, KvOperations kv) {
        this.queue = queue;
        this.kv = kv;
    }

    /**
     * Waits until the caller holds the lock. Cancel the future when the caller goes away: it leaves
     * the queue, and a lock it just got is released (see {@link KeyQueue#answer}).
     */
    CompletableFuture<LockResponse> lock(LockRequest request) {
        CompletableFuture<KeyQueue.Place> joined =
                queue.join(
                        request.getName().concat(SEPARATOR),
                        request.getLease(),
                        ByteString.EMPTY,
                        false,
                        EtcdErrors.SESSION_EXPIRED);
        return queue.answer(
                joined,
                place ->
                        LockResponse.newBuilder()
                                .setHeader(place.header())
                                .setKey(place.key())
                                .build());
    }

    /** Deletes the key, whoever holds it, as etcd does; a key that does not exist is no error. */
    CompletableFuture<UnlockResponse> unlock(UnlockRequest request) {
        return kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(request.getKey()).build())
                .handle(
                        (response, error) -> {
                            if (error != null) {
                                throw EtcdErrors.viaClient(error).toException();
                            }
                            return UnlockResponse.newBuilder()
                                    .setHeader(response.getHeader())
                                    .build();
                        });
    }
}
