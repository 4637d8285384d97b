package io.capstan.controller.config;

import java.util.Objects;

/**
 * How the daemon logs ({@code capstan.log.*}).
 *
 * @param format {@code capstan.log.format}: lines of text, or one JSON object per line
 */
public record LogSettings(Format format) {

    /** A log line's format. */
    public enum Format {
        TEXT,
        JSON
    }

    public LogSettings {
        Objects.requireNonNull(format, "format");
    }
}
