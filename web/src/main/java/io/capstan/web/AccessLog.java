package io.capstan.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request, at INFO, on the logger {@code capstan.access.<owner>}: the owner is the
 * component serving the route ({@link CompletedRequest#owner()}, e.g. {@code api} for etcd's
 * gateway, {@code transport} for Raft's peer messages, {@code web} for health probes and requests
 * no route matched). Logging configuration can so route {@value #LOGGER} to a file of its own, or
 * silence it whole or one owner at a time. The message reads {@code GET /v3/kv/range 200 154 bytes
 * 1.25 ms from 127.0.0.1:50312}; the same facts are also the event's key-value pairs ({@code
 * method}, {@code path}, {@code status}, {@code bytes}, {@code duration_ms}, {@code remote}), which
 * structured (JSON) log formats show as fields. The request id is in the MDC while the line is
 * written. Stateless.
 */
final class AccessLog {
    static final String LOGGER = "capstan.access";

    private AccessLog() {}

    static void log(CompletedRequest request) {
        Logger log = LoggerFactory.getLogger(LOGGER + "." + request.owner());
        if (!log.isInfoEnabled()) {
            return;
        }
        // Microsecond precision is plenty, and keeps the number short in both formats.
        double millis = Math.round(request.durationNanos() / 1e3) / 1e3;
        log.atInfo()
                .addKeyValue("method", request.method())
                .addKeyValue("path", request.path())
                .addKeyValue("status", request.status())
                .addKeyValue("bytes", request.bytesSent())
                .addKeyValue("duration_ms", millis)
                .addKeyValue("remote", request.remote())
                .log(
                        "{} {} {} {} bytes {} ms from {}",
                        request.method(),
                        request.path(),
                        request.status(),
                        request.bytesSent(),
                        millis,
                        request.remote());
    }
}
