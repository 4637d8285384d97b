package io.capstan.controller.config;

import java.util.Objects;

/**
 * The etcd v3 gRPC API listener, bound from {@code capstan.api.*}.
 *
 * @param host address to bind; defaults to the node's host
 * @param port port to bind; 0 picks an ephemeral port (tests)
 * @param maxWatchesPerStream watches one Watch stream may hold at once (at least 1)
 */
public record ApiSettings(String host, int port, int maxWatchesPerStream) {

    public ApiSettings {
        Objects.requireNonNull(host, "host");
        if (maxWatchesPerStream < 1) {
            throw new IllegalArgumentException("maxWatchesPerStream must be at least 1, was " + maxWatchesPerStream);
        }
    }
}
