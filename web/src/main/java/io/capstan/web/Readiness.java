package io.capstan.web;

import java.util.Map;

/**
 * What {@code /health/ready} reports: 200 when {@code ready}, else 503, with {@code details}
 * rendered as the JSON body. Supplied by whoever knows the components (the controller).
 */
public record Readiness(boolean ready, Map<String, Object> details) {
    public Readiness {
        details = Map.copyOf(details);
    }
}
