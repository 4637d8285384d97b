package io.capstan.artifacts;

import java.time.Duration;

/**
 * Limits of tus uploads, bound from {@code capstan.artifacts.uploads.*}. Immutable.
 *
 * @param maxOpen uploads not yet finished that may exist at once; creating another is refused
 * @param expireAfter an unfinished upload untouched this long is deleted, and so is the record of a
 *     finished one
 */
public record UploadSettings(int maxOpen, Duration expireAfter) {

    public UploadSettings {
        ArtifactSettings.atLeast("max-open", maxOpen, 1);
        ArtifactSettings.positive("expire-after", expireAfter);
    }

    /** The defaults of {@code reference.conf}. */
    public static UploadSettings defaults() {
        return new UploadSettings(64, Duration.ofHours(24));
    }
}
