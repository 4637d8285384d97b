package io.capstan.controller.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds on the lifecycle graph, bound from {@code capstan.lifecycle.*}. Both are positive.
 *
 * @param startTimeout how long one component may take to become ready before the start fails
 * @param stopTimeout how long one component may take to stop before shutdown moves on
 */
public record LifecycleSettings(Duration startTimeout, Duration stopTimeout) {

    public LifecycleSettings {
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(stopTimeout, "stopTimeout");
    }
}
