package io.capstan.raft;

import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RangeResponse;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lincheck over the store's concurrent read path against its single writer: puts and deletes run on
 * one thread (the apply thread's role, enforced by the non-parallel group), reads of the whole
 * keyspace at the latest revision run on others. Every read must match the state after some prefix
 * of the writes, revision included: never half a write, never a mix of two.
 */
// A backstop against a hung search, not a speed check: model checking takes about a minute on an
// idle 2-core machine and over two when other builds share it.
@Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@Param(name = "key", gen = IntGen.class, conf = "1:3")
@Param(name = "value", gen = IntGen.class, conf = "1:4")
public class KeyspaceLincheckTest {
    private final MvccStore store = new MvccStore();
    private final Applier applier = new Applier(store, LeaseEvents.NONE, AppliedChanges.NONE);
    private long logIndex;

    @Operation(nonParallelGroup = "apply")
    public long put(@Param(name = "key") int key, @Param(name = "value") int value) {
        return applier.apply(Ops.put("k" + key, "v" + value), ++logIndex).getRevision();
    }

    @Operation(nonParallelGroup = "apply")
    public long delete(@Param(name = "key") int key) {
        return applier.apply(Ops.delete("k" + key), ++logIndex).getRevision();
    }

    /** A write transaction touching two keys: readers must see both changes or neither. */
    @Operation(nonParallelGroup = "apply")
    public long putPair(@Param(name = "value") int value) {
        return applier.apply(
                        Ops.txn(
                                java.util.List.of(),
                                java.util.List.of(
                                        Ops.op(Ops.putReq("k1", "p" + value)),
                                        Ops.op(Ops.putReq("k3", "p" + value))),
                                java.util.List.of()),
                        ++logIndex)
                .getRevision();
    }

    @Operation
    public String rangeAll() {
        long at = store.readableRevision(0);
        RangeResponse response =
                RangeReader.read(
                        store,
                        RangeRequest.newBuilder()
                                .setKey(MvccStore.FROM_KEY)
                                .setRangeEnd(MvccStore.FROM_KEY)
                                .build(),
                        at);
        return at
                + ":"
                + response.getKvsList().stream()
                        .map(
                                kv ->
                                        kv.getKey().toStringUtf8()
                                                + "="
                                                + kv.getValue().toStringUtf8()
                                                + "@"
                                                + kv.getModRevision()
                                                + "/"
                                                + kv.getVersion())
                        .collect(Collectors.joining(","));
    }

    /**
     * Explores interleavings of the store's own code; protobuf message building runs without switch
     * points (it touches no shared state), which keeps the search small.
     */
    @Test
    void modelChecking() {
        new ModelCheckingOptions()
                .addGuarantee(
                        ManagedStrategyGuaranteeKt.forClasses(
                                        name ->
                                                name.startsWith("com.google.protobuf.")
                                                        || name.startsWith(
                                                                "io.capstan.raft.proto."))
                                .allMethods()
                                .ignore())
                .iterations(5)
                .invocationsPerIteration(100)
                .threads(2)
                .actorsPerThread(3)
                .check(getClass());
    }

    @Test
    void stress() {
        new StressOptions()
                .iterations(20)
                .invocationsPerIteration(500)
                .threads(3)
                .actorsPerThread(3)
                .check(getClass());
    }
}
