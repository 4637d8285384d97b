package io.capstan.etcd;

import java.time.Duration;
import java.util.Objects;

/**
 * When a member raises etcd's NOSPACE alarm (see {@link SpaceQuota}).
 *
 * @param minFreeBytes free space the file system of the data directory must keep; below it the
 *     member raises its alarm and refuses writes that add data. 0 turns the quota off
 * @param checkInterval how often the member looks without waiting for a write (at least 10 ms)
 */
public record SpaceQuotaSettings(long minFreeBytes, Duration checkInterval) {

    /** No quota: no alarm is ever raised for space (in-JVM tests that do not test it). */
    public static final SpaceQuotaSettings OFF = new SpaceQuotaSettings(0, Duration.ofSeconds(1));

    public SpaceQuotaSettings {
        Objects.requireNonNull(checkInterval, "checkInterval");
        if (minFreeBytes < 0) {
            throw new IllegalArgumentException(
                    "minFreeBytes must not be negative, was " + minFreeBytes);
        }
        if (checkInterval.toMillis() < 10) {
            throw new IllegalArgumentException(
                    "checkInterval must be at least 10ms, was " + checkInterval);
        }
    }

    boolean enabled() {
        return minFreeBytes > 0;
    }
}
