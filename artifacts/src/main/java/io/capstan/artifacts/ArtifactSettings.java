package io.capstan.artifacts;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a member's artifacts, bound from {@code capstan.artifacts.*} (defaults in this
 * module's {@code reference.conf}). Immutable; the constructor refuses values it cannot honour with
 * an {@link IllegalArgumentException} whose message starts with the key's name.
 *
 * @param dir the store's directory: {@code <data-dir>/artifacts}
 * @param maxSize the largest artifact this member fetches or accepts as an upload
 * @param reconcileInterval how often the member compares its store with the records: it fetches
 *     what it lacks and deletes what was deleted
 * @param gcGrace an artifact without references is deleted this long after it lost the last one (or
 *     was registered without any)
 * @param gcInterval how often the leader looks for such artifacts
 * @param fetch how artifacts are fetched
 * @param uploads limits of tus uploads
 */
public record ArtifactSettings(
        Path dir,
        long maxSize,
        Duration reconcileInterval,
        Duration gcGrace,
        Duration gcInterval,
        FetchSettings fetch,
        UploadSettings uploads) {

    public ArtifactSettings {
        Objects.requireNonNull(dir, "dir");
        atLeast("max-size", maxSize, 1);
        positive("reconcile-interval", reconcileInterval);
        positive("gc.grace", gcGrace);
        positive("gc.interval", gcInterval);
        Objects.requireNonNull(fetch, "fetch");
        Objects.requireNonNull(uploads, "uploads");
    }

    /** The defaults of {@code reference.conf}, with the store in {@code dir}. */
    public static ArtifactSettings defaults(Path dir) {
        return new ArtifactSettings(
                dir,
                1L << 30,
                Duration.ofSeconds(2),
                Duration.ofHours(1),
                Duration.ofMinutes(1),
                FetchSettings.defaults(),
                UploadSettings.defaults());
    }

    static void atLeast(String key, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(key + " must be at least " + min + ", was " + value);
        }
    }

    static void positive(String key, Duration value) {
        Objects.requireNonNull(value, key);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + " must be positive, was " + value);
        }
    }
}
