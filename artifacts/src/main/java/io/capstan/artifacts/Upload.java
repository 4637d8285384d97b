package io.capstan.artifacts;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One tus upload: what its creation fixed (id, length, metadata) and its progress (the offset of
 * its last durable byte, when it was last touched, and once finished, the digest its bytes were
 * stored under and whether the cluster has recorded it).
 *
 * <p><b>One owner at a time.</b> A request that changes the upload (a PATCH, its termination,
 * finishing it, expiry) must {@link #tryOwn() own} it first and {@link #release()} it after; a
 * second request finds it owned and is refused (423), so bytes of two requests never interleave.
 * Only the owner writes the progress fields; they are volatile so that HEAD, which never waits for
 * an owner, reads the last committed values.
 */
final class Upload {
    private final String id;
    private final long length;
    private final Map<String, String> metadata;
    private final String rawMetadata;
    private final long createdUnixMs;
    private final Path data;
    private final AtomicBoolean owned = new AtomicBoolean();
    private volatile long offset;
    private volatile long touchedUnixMs;
    private volatile Digest digest;
    private volatile boolean registered;

    Upload(
            String id,
            long length,
            Map<String, String> metadata,
            String rawMetadata,
            long createdUnixMs,
            Path data) {
        this.id = Objects.requireNonNull(id, "id");
        this.length = length;
        this.metadata = Map.copyOf(metadata);
        this.rawMetadata = rawMetadata;
        this.createdUnixMs = createdUnixMs;
        this.touchedUnixMs = createdUnixMs;
        this.data = data;
    }

    String id() {
        return id;
    }

    long length() {
        return length;
    }

    Map<String, String> metadata() {
        return metadata;
    }

    /** The Upload-Metadata header as the client sent it, for HEAD. */
    String rawMetadata() {
        return rawMetadata;
    }

    long createdUnixMs() {
        return createdUnixMs;
    }

    /** Where its bytes are written until it is finished. */
    Path data() {
        return data;
    }

    long offset() {
        return offset;
    }

    long touchedUnixMs() {
        return touchedUnixMs;
    }

    /** Once every byte arrived and was stored: the digest it was stored under. */
    Optional<Digest> digest() {
        return Optional.ofNullable(digest);
    }

    boolean registered() {
        return registered;
    }

    /** Whether every byte arrived, was stored and recorded by the cluster. */
    boolean done() {
        return registered;
    }

    /** Takes ownership; false when another request owns it. */
    boolean tryOwn() {
        return owned.compareAndSet(false, true);
    }

    void release() {
        owned.set(false);
    }

    // ---- the owner only (or the loader, before the upload is published) ----

    void committed(long newOffset, long atUnixMs) {
        offset = newOffset;
        touchedUnixMs = atUnixMs;
    }

    void stored(Digest stored) {
        digest = stored;
    }

    void recorded() {
        registered = true;
    }
}
