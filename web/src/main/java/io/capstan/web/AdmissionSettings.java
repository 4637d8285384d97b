package io.capstan.web;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits of one {@link AdmissionBudget}, bound from {@code capstan.web.admission.<name>.*} (or
 * {@code capstan.api.admission.<name>.*} for the etcd gRPC API). The constructor rejects values the
 * budget cannot honour with an {@link IllegalArgumentException} naming the key.
 *
 * @param maxInFlight requests served at once (at least 1)
 * @param maxQueued requests waiting for one of those places, first come first served; 0 refuses at
 *     once whatever finds every place taken
 * @param maxQueueWait how long a request may wait in the queue before it is refused
 */
public record AdmissionSettings(int maxInFlight, int maxQueued, Duration maxQueueWait) {

    public AdmissionSettings {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException(
                    "max-in-flight must be at least 1, was " + maxInFlight);
        }
        if (maxQueued < 0) {
            throw new IllegalArgumentException(
                    "max-queued must be zero or positive, was " + maxQueued);
        }
        Objects.requireNonNull(maxQueueWait, "max-queue-wait");
        if (maxQueueWait.isNegative() || maxQueueWait.isZero()) {
            throw new IllegalArgumentException(
                    "max-queue-wait must be positive, was " + maxQueueWait);
        }
    }
}
