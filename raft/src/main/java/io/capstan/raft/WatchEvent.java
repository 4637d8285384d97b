package io.capstan.raft;

import io.capstan.raft.proto.KeyValue;
import java.util.Objects;

/**
 * One change to one key, as etcd's {@code mvccpb.Event} reports it. Immutable.
 *
 * @param type what happened
 * @param kv for a put, the key's new version; for a delete, only {@code key} and {@code
 *     mod_revision} (the delete's revision) are set, as in etcd
 * @param prevKv the version before this change, or null: when the watch did not ask for it, when
 *     the key did not exist before, or when compaction already dropped it
 */
public record WatchEvent(Type type, KeyValue kv, KeyValue prevKv) {

    public enum Type {
        PUT,
        DELETE
    }

    public WatchEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(kv, "kv");
    }

    /** The revision of this change. */
    public long revision() {
        return kv.getModRevision();
    }
}
