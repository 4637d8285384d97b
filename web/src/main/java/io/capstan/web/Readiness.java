package io.capstan.web;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code /health/ready} reports: 200 when {@code ready}, else 503, with {@code details}
 * rendered as the JSON body in its iteration order (null values render as JSON null). Supplied by
 * whoever knows the components (the controller).
 *
 * @param ready whether the whole member is ready
 * @param details the body of a probe without {@code ?check=}
 * @param checks each named check and whether it passes, for {@code ?check=NAME} probes that ask
 *     about some of them only; {@code ready} is normally all of them passing
 */
public record Readiness(boolean ready, Map<String, Object> details, Map<String, Boolean> checks) {
    public Readiness {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
        checks = Collections.unmodifiableMap(new LinkedHashMap<>(checks));
    }

    /** A readiness without named checks: every {@code ?check=} probe names an unknown one. */
    public Readiness(boolean ready, Map<String, Object> details) {
        this(ready, details, Map.of());
    }
}
