package io.capstan.web;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Immutable settings of the web layer, bound from {@code capstan.web.*}. Each component's
 * configuration key is its name in kebab-case ({@code maxBodyBytes} is {@code
 * capstan.web.max-body-bytes}); {@code reference.conf} in this module holds the defaults.
 *
 * <p>The constructor rejects values the web layer cannot honour with an {@link
 * IllegalArgumentException} whose message starts with the offending key.
 *
 * @param host address to bind
 * @param port port to bind; 0 picks an ephemeral port (tests)
 * @param ioThreads Undertow I/O threads
 * @param workerThreads Undertow worker threads (blocking handlers)
 * @param maxBodyBytes default request body limit; larger bodies get 413
 * @param maxHeaderBytes limit on the request header block (Undertow caps it at 20000 bytes for
 *     HTTP/2 unless {@code io.undertow.http2-max-header-size} is set)
 * @param requestParseTimeout time allowed to receive a whole request head (slowloris)
 * @param idleTimeout an idle connection is closed after this
 * @param drainTimeout on stop, how long in-flight requests may finish
 * @param admission the admission budgets routes may name ({@link Admission}), by name: {@code
 *     capstan.web.admission.<name>}
 */
public record WebSettings(
        String host,
        int port,
        int ioThreads,
        int workerThreads,
        long maxBodyBytes,
        int maxHeaderBytes,
        Duration requestParseTimeout,
        Duration idleTimeout,
        Duration drainTimeout,
        Map<String, AdmissionSettings> admission) {

    public WebSettings {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        atLeastOne("io-threads", ioThreads);
        atLeastOne("worker-threads", workerThreads);
        atLeastOne("max-body-bytes", maxBodyBytes);
        atLeastOne("max-header-bytes", maxHeaderBytes);
        millis("request-parse-timeout", requestParseTimeout, false);
        millis("idle-timeout", idleTimeout, false);
        millis("drain-timeout", drainTimeout, true);
        Objects.requireNonNull(admission, "admission");
        admission.forEach(
                (name, budget) -> {
                    Admission.checkName(name);
                    Objects.requireNonNull(budget, name);
                });
        // Sorted, so that metrics list the budgets in one order.
        admission = Collections.unmodifiableMap(new TreeMap<>(admission));
    }

    /**
     * The defaults of {@code reference.conf}, for callers that do not read configuration (tests).
     */
    public static WebSettings defaults() {
        return new WebSettings(
                "127.0.0.1",
                7480,
                2,
                32,
                2L * 1024 * 1024,
                16 * 1024,
                Duration.ofSeconds(10),
                Duration.ofMinutes(5),
                Duration.ofSeconds(10),
                Map.of(
                        "gateway", new AdmissionSettings(256, 1024, Duration.ofSeconds(5)),
                        "gateway-streams", new AdmissionSettings(1024, 0, Duration.ofSeconds(1)),
                        "admin", new AdmissionSettings(16, 64, Duration.ofSeconds(5)),
                        "artifacts", new AdmissionSettings(32, 64, Duration.ofSeconds(5))));
    }

    /** These settings with another port; 0 picks an ephemeral one. */
    public WebSettings withPort(int newPort) {
        return new WebSettings(
                host,
                newPort,
                ioThreads,
                workerThreads,
                maxBodyBytes,
                maxHeaderBytes,
                requestParseTimeout,
                idleTimeout,
                drainTimeout,
                admission);
    }

    /** A duration as whole milliseconds, the unit Undertow's options take. */
    static int millis(String key, Duration value, boolean zeroAllowed) {
        Objects.requireNonNull(value, key);
        if (value.isNegative() || (!zeroAllowed && value.isZero())) {
            throw new IllegalArgumentException(
                    key
                            + " must be "
                            + (zeroAllowed ? "zero or positive" : "positive")
                            + ", was "
                            + value);
        }
        if (value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(
                    key
                            + " must be at most "
                            + Duration.ofMillis(Integer.MAX_VALUE)
                            + ", was "
                            + value);
        }
        return (int) value.toMillis();
    }

    private static void atLeastOne(String key, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " must be at least 1, was " + value);
        }
    }
}
