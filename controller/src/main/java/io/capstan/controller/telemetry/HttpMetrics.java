package io.capstan.controller.telemetry;

import io.capstan.web.CompletedRequest;
import io.capstan.web.RequestObserver;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Set;

/**
 * {@code capstan_http_request_duration_seconds}: every request on the web port, by route template
 * (not path, so ids in paths add no series; {@code unmatched} for 404s and 405s), method and status
 * code, with how long it took from arrival to the end of the response. Every series is bounded:
 * methods outside the standard ones count as {@code OTHER}.
 */
final class HttpMetrics implements RequestObserver {
    private static final Set<String> METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

    private final Histogram requests;

    HttpMetrics(PrometheusRegistry registry) {
        this.requests =
                Histogram.builder()
                        .name("capstan_http_request_duration_seconds")
                        .help(
                                "Requests on the web port by route template, method and status code, and their duration")
                        .labelNames("route", "method", "code")
                        .classicOnly()
                        .withoutExemplars()
                        .register(registry);
    }

    @Override
    public void completed(CompletedRequest request) {
        String method = METHODS.contains(request.method()) ? request.method() : "OTHER";
        requests.labelValues(request.route(), method, Integer.toString(request.status()))
                .observe(request.durationNanos() / 1e9);
    }
}
