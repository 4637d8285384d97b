package io.capstan.raft;

import com.google.protobuf.ByteString;

/**
 * One key's change at one revision, as the apply thread wrote it or as history holds it. Immutable.
 *
 * @param version what was written: a put's new version, or a delete's tombstone
 * @param prior the live version it replaced, or null when the key did not exist (or compaction
 *     dropped it)
 */
record Change(ByteString key, KeyRevision version, KeyRevision prior) {

    Change {
        if (prior != null && prior.isTombstone()) {
            prior = null;
        }
    }

    long revision() {
        return version.modRevision();
    }

    WatchEvent.Type type() {
        return version.isTombstone() ? WatchEvent.Type.DELETE : WatchEvent.Type.PUT;
    }

    WatchEvent toEvent(boolean withPrior) {
        return new WatchEvent(
                type(),
                version.toKeyValue(key, false),
                withPrior && prior != null ? prior.toKeyValue(key, false) : null);
    }
}
