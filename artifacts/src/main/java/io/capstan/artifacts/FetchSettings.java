package io.capstan.artifacts;

import java.time.Duration;
import java.util.Objects;

/**
 * How a member fetches artifacts, bound from {@code capstan.artifacts.fetch.*}. Immutable; the
 * constructor refuses values it cannot honour with a message that starts with the key's name.
 *
 * @param parallel fetches that run at once on this member; more wait their turn
 * @param connectTimeout how long opening a connection to a source or a member may take
 * @param idleTimeout an attempt that receives no byte (or no answer) for this long fails
 * @param attemptTimeout the longest one attempt's whole download may take
 * @param attempts tries per source for failures another try may cure (I/O, 5xx, 408, 429,
 *     timeouts); a 4xx, a digest mismatch or too many bytes move on at once
 * @param backoffMin the wait before the second try; it doubles per try, with jitter
 * @param backoffMax the longest wait between two tries
 * @param staleAfter a fetch from the source that started this long ago and has not finished is
 *     taken over by another member
 */
public record FetchSettings(
        int parallel,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration attemptTimeout,
        int attempts,
        Duration backoffMin,
        Duration backoffMax,
        Duration staleAfter) {

    public FetchSettings {
        ArtifactSettings.atLeast("parallel", parallel, 1);
        ArtifactSettings.positive("connect-timeout", connectTimeout);
        ArtifactSettings.positive("idle-timeout", idleTimeout);
        ArtifactSettings.positive("attempt-timeout", attemptTimeout);
        ArtifactSettings.atLeast("attempts", attempts, 1);
        ArtifactSettings.positive("backoff-min", backoffMin);
        ArtifactSettings.positive("backoff-max", backoffMax);
        if (backoffMax.compareTo(Objects.requireNonNull(backoffMin)) < 0) {
            throw new IllegalArgumentException(
                    "backoff-max must be at least backoff-min (" + backoffMin + ")");
        }
        ArtifactSettings.positive("stale-after", staleAfter);
    }

    /** The defaults of {@code reference.conf}. */
    public static FetchSettings defaults() {
        return new FetchSettings(
                4,
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                Duration.ofMinutes(30),
                4,
                Duration.ofMillis(500),
                Duration.ofSeconds(30),
                Duration.ofMinutes(10));
    }

    /**
     * The wait before try {@code next} (2 or more): doubling from the minimum, capped, with full
     * jitter.
     */
    Duration backoff(int next, double jitter) {
        long min = backoffMin.toMillis();
        long doubled = min << Math.min(next - 2, 20);
        long capped = Math.min(Math.max(doubled, min), backoffMax.toMillis());
        return Duration.ofMillis(Math.max(1, (long) (capped * jitter)));
    }
}
