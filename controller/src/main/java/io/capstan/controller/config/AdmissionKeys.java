package io.capstan.controller.config;

import com.typesafe.config.Config;
import io.capstan.web.AdmissionSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The admission budgets under one block ({@code capstan.web.admission}, {@code
 * capstan.api.admission}): one sub-block per budget the reference declares, each with {@code
 * max-in-flight}, {@code max-queued} and {@code max-queue-wait}. The reference fixes which budgets
 * exist (a block of another name is an unknown key); a configuration may only change their limits.
 * Stateless.
 */
final class AdmissionKeys {
    static final String MAX_IN_FLIGHT = "max-in-flight";
    static final String MAX_QUEUED = "max-queued";
    static final String MAX_QUEUE_WAIT = "max-queue-wait";
    private static final int MOST = 1_000_000;

    private AdmissionKeys() {}

    /**
     * Reads every budget of {@code block}; empty when any key is bad (each reported to {@code r}).
     *
     * @param reference the resolved reference configuration, which names the budgets
     */
    static Optional<Map<String, AdmissionSettings>> read(
            ConfigReader r, Config reference, String block) {
        Map<String, AdmissionSettings> budgets = new LinkedHashMap<>();
        boolean bad = false;
        for (String name : reference.getObject(block).keySet().stream().sorted().toList()) {
            String path = block + "." + name + ".";
            Optional<Integer> inFlight =
                    r.integer(path + MAX_IN_FLIGHT, 1, MOST, "must be an integer 1.." + MOST);
            Optional<Integer> queued =
                    r.integer(path + MAX_QUEUED, 0, MOST, "must be an integer 0.." + MOST);
            Optional<Duration> wait = r.duration(path + MAX_QUEUE_WAIT, false);
            if (inFlight.isEmpty() || queued.isEmpty() || wait.isEmpty()) {
                bad = true;
            } else {
                budgets.put(name, new AdmissionSettings(inFlight.get(), queued.get(), wait.get()));
            }
        }
        return bad ? Optional.empty() : Optional.of(budgets);
    }
}
