package io.capstan.web;

import java.time.Duration;

/**
 * Immutable settings of the web layer, bound from {@code capstan.web.*}.
 *
 * @param host                  address to bind
 * @param port                  port to bind; 0 picks an ephemeral port (tests)
 * @param ioThreads             Undertow I/O threads
 * @param workerThreads         Undertow worker threads (blocking handlers)
 * @param maxBodyBytes          default request body limit; larger bodies get 413
 * @param maxHeaderBytes        limit on the request header block
 * @param requestParseTimeout   time allowed to receive a whole request head (slowloris)
 * @param idleTimeout           an idle connection is closed after this
 * @param maxConcurrentRequests requests served at once
 * @param maxQueuedRequests     requests waiting for a slot; beyond this 503 + Retry-After
 * @param drainTimeout          on stop, how long in-flight requests may finish
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
        int maxConcurrentRequests,
        int maxQueuedRequests,
        Duration drainTimeout) {
}
