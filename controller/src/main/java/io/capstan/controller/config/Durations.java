package io.capstan.controller.config;

import java.time.Duration;

/** Durations in messages, written the way configuration files write them. */
final class Durations {
    private Durations() {}

    /** {@code 5s} for whole seconds, else {@code 1500ms}; sub-millisecond parts are dropped. */
    static String text(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }
}
