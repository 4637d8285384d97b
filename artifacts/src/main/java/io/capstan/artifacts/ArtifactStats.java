package io.capstan.artifacts;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one member's artifacts, for metrics. Any thread adds (they are {@link LongAdder}s:
 * upload PATCHes, fetch threads and request handlers count at the same time) and any thread reads;
 * a read is a moment's value.
 */
public final class ArtifactStats {
    private final LongAdder bytesFromSources = new LongAdder();
    private final LongAdder bytesFromPeers = new LongAdder();
    private final LongAdder fetchesShared = new LongAdder();
    private final LongAdder verifyFailures = new LongAdder();
    private final LongAdder bytesUploaded = new LongAdder();

    /** Bytes received from artifacts' source URLs (every attempt, verified or not). */
    public long bytesFromSources() {
        return bytesFromSources.sum();
    }

    /** Bytes received from other members. */
    public long bytesFromPeers() {
        return bytesFromPeers.sum();
    }

    /** Requests for an artifact that joined a fetch already under way instead of starting one. */
    public long fetchesShared() {
        return fetchesShared.sum();
    }

    /**
     * Bytes whose SHA-256 was not their digest: fetched or uploaded bytes refused, and stored files
     * found corrupt (and removed).
     */
    public long verifyFailures() {
        return verifyFailures.sum();
    }

    /** Bytes written to uploads. */
    public long bytesUploaded() {
        return bytesUploaded.sum();
    }

    void fetched(boolean fromPeer, long bytes) {
        (fromPeer ? bytesFromPeers : bytesFromSources).add(bytes);
    }

    void shared() {
        fetchesShared.increment();
    }

    void verifyFailed() {
        verifyFailures.increment();
    }

    void uploaded(long bytes) {
        bytesUploaded.add(bytes);
    }
}
