package io.capstan.controller.config;

import io.capstan.artifacts.ArtifactSettings;
import io.capstan.artifacts.FetchSettings;
import io.capstan.artifacts.UploadSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The artifact keys, {@code capstan.artifacts.*}, checked on their own; with the data directory
 * they make an {@link ArtifactSettings}. Immutable.
 */
record ArtifactTuning(
        long maxSize,
        Duration reconcileInterval,
        int parallel,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration attemptTimeout,
        int attempts,
        Duration backoffMin,
        Duration backoffMax,
        Duration staleAfter,
        int maxOpenUploads,
        Duration uploadsExpireAfter,
        Duration gcGrace,
        Duration gcInterval) {

    static final String PREFIX = "capstan.artifacts.";

    /** Below the node's data directory, the artifacts module's own. */
    static final String DIR = "artifacts";

    /** The names the artifacts module uses in its messages, by key path. */
    static final Map<String, String> KEYS_BY_NAME =
            Map.ofEntries(
                    Map.entry("max-size", PREFIX + "max-size"),
                    Map.entry("reconcile-interval", PREFIX + "reconcile-interval"),
                    Map.entry("parallel", PREFIX + "fetch.parallel"),
                    Map.entry("connect-timeout", PREFIX + "fetch.connect-timeout"),
                    Map.entry("idle-timeout", PREFIX + "fetch.idle-timeout"),
                    Map.entry("attempt-timeout", PREFIX + "fetch.attempt-timeout"),
                    Map.entry("attempts", PREFIX + "fetch.attempts"),
                    Map.entry("backoff-min", PREFIX + "fetch.backoff-min"),
                    Map.entry("backoff-max", PREFIX + "fetch.backoff-max"),
                    Map.entry("stale-after", PREFIX + "fetch.stale-after"),
                    Map.entry("max-open", PREFIX + "uploads.max-open"),
                    Map.entry("expire-after", PREFIX + "uploads.expire-after"),
                    Map.entry("gc.grace", PREFIX + "gc.grace"),
                    Map.entry("gc.interval", PREFIX + "gc.interval"));

    /** Reads the artifact keys; empty when any is bad (each reported to {@code r}). */
    static Optional<ArtifactTuning> read(ConfigReader r) {
        Optional<Long> maxSize =
                r.bytes(
                        PREFIX + "max-size",
                        1,
                        Long.MAX_VALUE,
                        "must be a positive size, e.g. 1GiB");
        Optional<Duration> reconcile = r.duration(PREFIX + "reconcile-interval", false);
        Optional<Integer> parallel =
                r.integer(PREFIX + "fetch.parallel", 1, 256, "must be an integer 1..256");
        Optional<Duration> connect = r.duration(PREFIX + "fetch.connect-timeout", false);
        Optional<Duration> idle = r.duration(PREFIX + "fetch.idle-timeout", false);
        Optional<Duration> attempt = r.duration(PREFIX + "fetch.attempt-timeout", false);
        Optional<Integer> attempts =
                r.integer(PREFIX + "fetch.attempts", 1, 100, "must be an integer 1..100");
        Optional<Duration> backoffMin = r.duration(PREFIX + "fetch.backoff-min", false);
        Optional<Duration> backoffMax = r.duration(PREFIX + "fetch.backoff-max", false);
        Optional<Duration> staleAfter = r.duration(PREFIX + "fetch.stale-after", false);
        Optional<Integer> maxOpen =
                r.integer(PREFIX + "uploads.max-open", 1, 100_000, "must be an integer 1..100000");
        Optional<Duration> expireAfter = r.duration(PREFIX + "uploads.expire-after", false);
        Optional<Duration> grace = r.duration(PREFIX + "gc.grace", false);
        Optional<Duration> interval = r.duration(PREFIX + "gc.interval", false);
        if (maxSize.isEmpty()
                || reconcile.isEmpty()
                || parallel.isEmpty()
                || connect.isEmpty()
                || idle.isEmpty()
                || attempt.isEmpty()
                || attempts.isEmpty()
                || backoffMin.isEmpty()
                || backoffMax.isEmpty()
                || staleAfter.isEmpty()
                || maxOpen.isEmpty()
                || expireAfter.isEmpty()
                || grace.isEmpty()
                || interval.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(
                new ArtifactTuning(
                        maxSize.get(),
                        reconcile.get(),
                        parallel.get(),
                        connect.get(),
                        idle.get(),
                        attempt.get(),
                        attempts.get(),
                        backoffMin.get(),
                        backoffMax.get(),
                        staleAfter.get(),
                        maxOpen.get(),
                        expireAfter.get(),
                        grace.get(),
                        interval.get()));
    }

    /**
     * @param dataDir the node's data directory; the store lives in its {@value #DIR} directory
     * @throws IllegalArgumentException if the artifacts module refuses a value
     */
    ArtifactSettings settings(Path dataDir) {
        return new ArtifactSettings(
                dataDir.resolve(DIR),
                maxSize,
                reconcileInterval,
                gcGrace,
                gcInterval,
                new FetchSettings(
                        parallel,
                        connectTimeout,
                        idleTimeout,
                        attemptTimeout,
                        attempts,
                        backoffMin,
                        backoffMax,
                        staleAfter),
                new UploadSettings(maxOpenUploads, uploadsExpireAfter));
    }
}
