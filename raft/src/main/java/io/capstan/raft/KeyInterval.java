package io.capstan.raft;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/**
 * A half-open interval of keys {@code [start, end)}, {@code end == null} meaning no upper bound:
 * the keys a request or a permission names, in etcd's notation turned into bounds.
 */
record KeyInterval(ByteString start, ByteString end) {
    private static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

    /** etcd's (key, range_end): an empty end names the key alone, "\0" every key from key on. */
    static KeyInterval of(ByteString key, ByteString rangeEnd) {
        if (rangeEnd.isEmpty()) {
            // The key's immediate successor bounds the key alone.
            return new KeyInterval(key, key.concat(ZERO));
        }
        return new KeyInterval(key, rangeEnd.equals(MvccStore.FROM_KEY) ? null : rangeEnd);
    }

    /**
     * Whether the union of {@code parts} holds every key of this interval (an empty one always).
     */
    boolean coveredBy(List<KeyInterval> parts) {
        if (end != null && MvccStore.KEY_ORDER.compare(start, end) >= 0) {
            return true;
        }
        List<KeyInterval> sorted = new ArrayList<>(parts);
        sorted.sort((a, b) -> MvccStore.KEY_ORDER.compare(a.start, b.start));
        ByteString reached = start;
        for (KeyInterval part : sorted) {
            if (MvccStore.KEY_ORDER.compare(part.start, reached) > 0) {
                return false;
            }
            if (part.end == null) {
                return true;
            }
            if (MvccStore.KEY_ORDER.compare(part.end, reached) > 0) {
                reached = part.end;
                if (end != null && MvccStore.KEY_ORDER.compare(reached, end) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }
}
