package io.capstan.controller.bench;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The calls of each workload, as closed-loop clients on shared connections; every call carries a
 * deadline of the call timeout. Immutable; the clients it makes keep their own state, owned as
 * {@link ClosedLoop} describes.
 */
final class Operations {
    /**
     * Bytes at the start of a watched put's value that hold its send time (see {@link #sentAt}).
     */
    static final int TIMESTAMP_BYTES = Long.BYTES;

    private final Connections connections;
    private final Duration timeout;
    private final ByteString value;

    /**
     * @param value what every put writes (a watched put writes its send time over its first bytes)
     */
    Operations(Connections connections, Duration timeout, ByteString value) {
        this.connections = connections;
        this.timeout = timeout;
        this.value = value;
    }

    /** Client {@code index}: puts of {@code <prefix><index>/<sequence>}, keys no other put uses. */
    ClosedLoop.Client puts(int index, String prefix) {
        KVGrpc.KVStub kv = KVGrpc.newStub(connections.channel(index));
        return sequence -> put(kv, key(prefix + index + "/" + sequence), value);
    }

    /**
     * Client {@code index}: as {@link #puts}, each value starting with the put's send time on
     * {@code clock}, for the watchers to measure delivery against.
     */
    ClosedLoop.Client timestampedPuts(int index, String prefix, LongSupplier clock) {
        KVGrpc.KVStub kv = KVGrpc.newStub(connections.channel(index));
        byte[] rest = value.substring(TIMESTAMP_BYTES).toByteArray();
        return sequence -> {
            ByteBuffer stamped =
                    ByteBuffer.allocate(TIMESTAMP_BYTES + rest.length)
                            .putLong(clock.getAsLong())
                            .put(rest);
            return put(
                    kv, key(prefix + index + "/" + sequence), ByteString.copyFrom(stamped.array()));
        };
    }

    /** The send time a value of {@link #timestampedPuts} carries. */
    static long sentAt(ByteString value) {
        return value.substring(0, TIMESTAMP_BYTES).asReadOnlyByteBuffer().getLong();
    }

    /**
     * Client {@code index}: ranges of one key of {@code keys} each, every client going through them
     * from its own place.
     */
    ClosedLoop.Client ranges(int index, List<ByteString> keys, boolean serializable) {
        KVGrpc.KVStub kv = KVGrpc.newStub(connections.channel(index));
        return sequence -> {
            Connections.Answer<RangeResponse> answer = new Connections.Answer<>();
            RangeRequest range =
                    RangeRequest.newBuilder()
                            .setKey(keys.get((int) ((index * 7919L + sequence) % keys.size())))
                            .setSerializable(serializable)
                            .build();
            timed(kv).range(range, answer);
            return answer;
        };
    }

    /**
     * Client {@code index}: compare-and-set transactions on its own key {@code <prefix><index>}: if
     * the key's mod revision is the one this client last saw (0 at first: no key), put the value,
     * else read the key. A failed compare counts as {@code COMPARE_FAILED}; the next transaction
     * compares with the revision it read. One transaction in flight at a time (the closed loop) is
     * what makes the plain field safe.
     */
    ClosedLoop.Client compareAndSets(int index, String prefix) {
        KVGrpc.KVStub kv = KVGrpc.newStub(connections.channel(index));
        ByteString key = key(prefix + index);
        long[] seen = {0};
        return sequence -> {
            Connections.Answer<TxnResponse> answer = new Connections.Answer<>();
            TxnRequest txn =
                    TxnRequest.newBuilder()
                            .addCompare(
                                    Compare.newBuilder()
                                            .setKey(key)
                                            .setTarget(Compare.CompareTarget.MOD)
                                            .setResult(Compare.CompareResult.EQUAL)
                                            .setModRevision(seen[0]))
                            .addSuccess(
                                    RequestOp.newBuilder()
                                            .setRequestPut(
                                                    PutRequest.newBuilder()
                                                            .setKey(key)
                                                            .setValue(value)))
                            .addFailure(
                                    RequestOp.newBuilder()
                                            .setRequestRange(RangeRequest.newBuilder().setKey(key)))
                            .build();
            timed(kv).txn(txn, answer);
            return answer.thenApply(
                    response -> {
                        if (response.getSucceeded()) {
                            seen[0] = response.getHeader().getRevision();
                            return response;
                        }
                        RangeResponse current = response.getResponses(0).getResponseRange();
                        seen[0] =
                                current.getKvsCount() == 0 ? 0 : current.getKvs(0).getModRevision();
                        throw new ClosedLoop.OperationFailed("COMPARE_FAILED");
                    });
        };
    }

    /**
     * Puts {@code keys}, {@code lanes} at a time; completes when all are written, exceptionally
     * with the first failure.
     */
    CompletableFuture<Void> preload(List<ByteString> keys, int lanes) {
        List<CompletableFuture<?>> lanesDone = new ArrayList<>();
        for (int lane = 0; lane < Math.min(lanes, keys.size()); lane++) {
            KVGrpc.KVStub kv = KVGrpc.newStub(connections.channel(lane));
            CompletableFuture<?> chain = CompletableFuture.completedFuture(null);
            for (int k = lane; k < keys.size(); k += lanes) {
                ByteString key = keys.get(k);
                chain = chain.thenCompose(previous -> put(kv, key, value));
            }
            lanesDone.add(chain);
        }
        return CompletableFuture.allOf(lanesDone.toArray(CompletableFuture[]::new));
    }

    static ByteString key(String text) {
        return ByteString.copyFromUtf8(text);
    }

    private CompletableFuture<PutResponse> put(
            KVGrpc.KVStub kv, ByteString key, ByteString putValue) {
        Connections.Answer<PutResponse> answer = new Connections.Answer<>();
        timed(kv).put(PutRequest.newBuilder().setKey(key).setValue(putValue).build(), answer);
        return answer;
    }

    private KVGrpc.KVStub timed(KVGrpc.KVStub kv) {
        return kv.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
}
