package io.capstan.web;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code /health/ready} reports: 200 when {@code ready}, else 503, with {@code details}
 * rendered as the JSON body in its iteration order (null values render as JSON null).
 * Supplied by whoever knows the components (the controller).
 */
public record Readiness(boolean ready, Map<String, Object> details) {
    public Readiness {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }
}
