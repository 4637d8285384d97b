package io.capstan.raft;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * A granted lease: its id, its granted TTL and the keys attached to it.
 *
 * <p>{@code id} and {@code ttlSeconds} never change. The key set is written only by the apply
 * thread (through {@link MvccStore}) and may be read by any thread; a reader sees each attach and
 * detach whole but not necessarily the set as of one revision.
 */
final class Lease {
    private final long id;
    private final long ttlSeconds;
    private final NavigableSet<ByteString> keys = new ConcurrentSkipListSet<>(MvccStore.KEY_ORDER);

    Lease(long id, long ttlSeconds) {
        this.id = id;
        this.ttlSeconds = ttlSeconds;
    }

    long id() {
        return id;
    }

    long ttlSeconds() {
        return ttlSeconds;
    }

    /** A copy of the attached keys, in key order. */
    List<ByteString> keys() {
        return List.copyOf(keys);
    }

    void attach(ByteString key) {
        keys.add(key);
    }

    void detach(ByteString key) {
        keys.remove(key);
    }
}
