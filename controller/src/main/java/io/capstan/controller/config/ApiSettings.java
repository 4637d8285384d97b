package io.capstan.controller.config;

import io.capstan.controller.etcd.AuthSettings;
import java.util.Objects;

/**
 * The etcd v3 gRPC API listener, bound from {@code capstan.api.*}.
 *
 * @param host address to bind; defaults to the node's host
 * @param port port to bind; 0 picks an ephemeral port (tests)
 * @param maxWatchesPerStream watches one Watch stream may hold at once (at least 1)
 * @param auth etcd Auth's tokens, password hashes and login rate, from {@code capstan.api.auth.*}
 */
public record ApiSettings(String host, int port, int maxWatchesPerStream, AuthSettings auth) {

    public ApiSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(auth, "auth");
        if (maxWatchesPerStream < 1) {
            throw new IllegalArgumentException("maxWatchesPerStream must be at least 1, was " + maxWatchesPerStream);
        }
    }
}
