package io.capstan.controller.config;

import java.util.Objects;

/**
 * The etcd v3 gRPC API listener, bound from {@code capstan.api.*}.
 *
 * @param host address to bind; defaults to the node's host
 * @param port port to bind; 0 picks an ephemeral port (tests)
 */
public record ApiSettings(String host, int port) {

    public ApiSettings {
        Objects.requireNonNull(host, "host");
    }
}
