package io.capstan.controller.systemd;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Decides, before each watchdog ping, whether the daemon still deserves one. */
@FunctionalInterface
public interface HealthProbe {

    /**
     * Checks health without blocking the caller.
     *
     * @param timeout how long the check may take; it should settle within it
     * @return completes with empty when healthy, else with why not
     */
    CompletionStage<Optional<String>> probe(Duration timeout);
}
