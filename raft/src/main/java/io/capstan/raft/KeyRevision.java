package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.KeyValue;

/**
 * One version of one key: what a put or a delete wrote at {@code modRevision}.
 *
 * <p>A tombstone (written by a delete) has {@code version == 0}; at revisions from its {@code
 * modRevision} on, the key does not exist. Immutable.
 *
 * @param subRevision the change's position among the changes of its revision, from 0, as etcd's
 *     sub-revision: watches report the changes of one revision in this order, and HashKV hashes
 *     them in it
 */
record KeyRevision(
        long modRevision,
        long createRevision,
        long version,
        ByteString value,
        long lease,
        long subRevision) {

    static KeyRevision tombstone(long modRevision, long subRevision) {
        return new KeyRevision(modRevision, 0, 0, ByteString.EMPTY, 0, subRevision);
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
