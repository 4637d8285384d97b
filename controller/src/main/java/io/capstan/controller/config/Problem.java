package io.capstan.controller.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One thing wrong with the configuration.
 *
 * @param key the key path ({@code capstan.web.port}, {@code capstan.raft.peers[1]}) or {@code
 *     --config} for the file itself
 * @param value the offending value as written, if there is one
 * @param message what is allowed, and where the value came from when that helps
 */
public record Problem(String key, Optional<String> value, String message) {

    public Problem {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(message, "message");
    }

    /** {@code key = value: message}, or {@code key: message} when there is no value. */
    @Override
    public String toString() {
        return value.map(v -> key + " = " + v + ": " + message).orElse(key + ": " + message);
    }
}
