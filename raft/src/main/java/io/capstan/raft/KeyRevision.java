package io.capstan.raft;

import com.google.protobuf.ByteString;

import io.capstan.raft.proto.KeyValue;

/**
 * One version of one key: what a put or a delete wrote at {@code modRevision}.
 *
 * <p>A tombstone (written by a delete) has {@code version == 0}; at revisions from its
 * {@code modRevision} on, the key does not exist. Immutable.
 */
record KeyRevision(
        long modRevision, long createRevision, long version, ByteString value, long lease) {

    static KeyRevision tombstone(long modRevision) {
        return new KeyRevision(modRevision, 0, 0, ByteString.EMPTY, 0);
    }

    boolean isTombstone() {
        return version == 0;
    }

    KeyValue toKeyValue(ByteString key, boolean keysOnly) {
        KeyValue.Builder kv =
                KeyValue.newBuilder()
                        .setKey(key)
                        .setCreateRevision(createRevision)
                        .setModRevision(modRevision)
                        .setVersion(version)
                        .setLease(lease);
        if (!keysOnly) {
            kv.setValue(value);
        }
        return kv.build();
    }
}
