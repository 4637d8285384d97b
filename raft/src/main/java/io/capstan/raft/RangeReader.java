package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RangeRequest.SortOrder;
import io.capstan.raft.proto.RangeRequest.SortTarget;
import io.capstan.raft.proto.RangeResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * etcd's range semantics over one revision of a {@link MvccStore}: filters on create and mod
 * revision, sort, limit with the {@code more} flag, keys-only and count-only. {@code count} is the
 * number of keys in the range before filters and limit, as in etcd. Stateless; safe on any thread
 * because the store's reads are.
 */
final class RangeReader {
    private RangeReader() {}

    /** Reads {@code request} at {@code revision}, which the caller has resolved and checked. */
    static RangeResponse read(MvccStore store, RangeRequest request, long revision) {
        List<KeyValue> kvs = new ArrayList<>();
        long[] count = {0};
        boolean filtered =
                request.getMinModRevision() > 0
                        || request.getMaxModRevision() > 0
                        || request.getMinCreateRevision() > 0
                        || request.getMaxCreateRevision() > 0;
        SortOrder order = effectiveOrder(request);
        // Without sorting or filters, keys come in key order and only limit + 1 need building.
        long keep =
                order == SortOrder.NONE && !filtered && request.getLimit() > 0
                        ? request.getLimit() + 1
                        : Long.MAX_VALUE;
        store.scan(
                request.getKey(),
                request.getRangeEnd(),
                revision,
                (key, version) -> {
                    count[0]++;
                    if (!request.getCountOnly() && kvs.size() < keep && passes(request, version)) {
                        kvs.add(version.toKeyValue(key, request.getKeysOnly()));
                    }
                    return true;
                });
        RangeResponse.Builder response = RangeResponse.newBuilder().setCount(count[0]);
        if (request.getCountOnly()) {
            return response.build();
        }
        if (order != SortOrder.NONE) {
            Comparator<KeyValue> comparator = comparator(request.getSortTarget());
            kvs.sort(order == SortOrder.DESCEND ? comparator.reversed() : comparator);
        }
        if (request.getLimit() > 0 && kvs.size() > request.getLimit()) {
            response.setMore(true);
            return response.addAllKvs(kvs.subList(0, (int) request.getLimit())).build();
        }
        return response.addAllKvs(kvs).build();
    }

    /** Scan order is ascending by key; etcd sorts ascending by default for any other target. */
    private static SortOrder effectiveOrder(RangeRequest request) {
        SortTarget target = request.getSortTarget();
        SortOrder order = request.getSortOrder();
        if (target != SortTarget.KEY && order == SortOrder.NONE) {
            return SortOrder.ASCEND;
        }
        if (target == SortTarget.KEY && order == SortOrder.ASCEND) {
            return SortOrder.NONE;
        }
        return order;
    }

    private static boolean passes(RangeRequest r, KeyRevision v) {
        return (r.getMinModRevision() == 0 || v.modRevision() >= r.getMinModRevision())
                && (r.getMaxModRevision() == 0 || v.modRevision() <= r.getMaxModRevision())
                && (r.getMinCreateRevision() == 0 || v.createRevision() >= r.getMinCreateRevision())
                && (r.getMaxCreateRevision() == 0
                        || v.createRevision() <= r.getMaxCreateRevision());
    }

    private static Comparator<KeyValue> comparator(SortTarget target) {
        return switch (target) {
            case KEY -> Comparator.comparing(KeyValue::getKey, MvccStore.KEY_ORDER);
            case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
            case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
            case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
            case VALUE -> Comparator.comparing(KeyValue::getValue, MvccStore.KEY_ORDER);
            case UNRECOGNIZED -> throw new IllegalArgumentException("unknown sort target");
        };
    }

    /**
     * The smallest key after every key that starts with {@code prefix} ("\0" when there is none).
     */
    static ByteString prefixEnd(ByteString prefix) {
        byte[] end = prefix.toByteArray();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteString.copyFrom(end, 0, i + 1);
            }
        }
        return MvccStore.FROM_KEY;
    }
}
