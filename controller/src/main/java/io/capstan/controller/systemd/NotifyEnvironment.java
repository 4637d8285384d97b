package io.capstan.controller.systemd;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What systemd passed this process in its environment: where notifications go and how often the
 * watchdog wants a ping (sd_notify(3), sd_watchdog_enabled(3)).
 *
 * @param socket the notification socket; empty when {@code NOTIFY_SOCKET} is unset, blank or
 *     unusable
 * @param watchdogInterval how often to send {@code WATCHDOG=1}: half of {@code WATCHDOG_USEC}, as
 *     systemd recommends, so one late ping never trips it; empty when there is no watchdog, or
 *     {@code WATCHDOG_PID} names another process (the watchdog is that process's to feed)
 * @param problems variables that were set but could not be used, for the log
 */
record NotifyEnvironment(
        Optional<NotifyAddress> socket,
        Optional<Duration> watchdogInterval,
        List<String> problems) {

    static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    static final String WATCHDOG_USEC = "WATCHDOG_USEC";
    static final String WATCHDOG_PID = "WATCHDOG_PID";

    NotifyEnvironment {
        problems = List.copyOf(problems);
    }

    /** Reads {@code env} as the process with id {@code pid} sees it. */
    static NotifyEnvironment parse(Map<String, String> env, long pid) {
        List<String> problems = new ArrayList<>();
        Optional<NotifyAddress> socket = Optional.empty();
        String value = env.get(NOTIFY_SOCKET);
        if (value != null && !value.isBlank()) {
            try {
                socket = Optional.of(NotifyAddress.parse(value.strip()));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage() + "; not notifying systemd");
            }
        }
        Optional<Duration> interval =
                socket.isEmpty() ? Optional.empty() : watchdogInterval(env, pid, problems);
        return new NotifyEnvironment(socket, interval, problems);
    }

    private static Optional<Duration> watchdogInterval(
            Map<String, String> env, long pid, List<String> problems) {
        String usec = env.get(WATCHDOG_USEC);
        if (usec == null || usec.isBlank()) {
            return Optional.empty();
        }
        String watchdogPid = env.get(WATCHDOG_PID);
        if (watchdogPid != null && !watchdogPid.isBlank()) {
            Optional<Long> target = positiveLong(watchdogPid);
            if (target.isEmpty()) {
                problems.add(
                        WATCHDOG_PID + " '" + watchdogPid + "' is not a process id; watchdog off");
                return Optional.empty();
            }
            if (target.get() != pid) {
                // Meant for another process (e.g. a wrapper that did not exec): not ours to feed.
                return Optional.empty();
            }
        }
        Optional<Long> micros = positiveLong(usec);
        if (micros.isEmpty()) {
            problems.add(
                    WATCHDOG_USEC
                            + " '"
                            + usec
                            + "' is not a positive number of microseconds; watchdog off");
            return Optional.empty();
        }
        Duration half = Duration.ofNanos(micros.get() * 500L);
        // A sub-millisecond watchdog cannot be fed by a JVM; ping as often as is sensible instead.
        return Optional.of(half.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : half);
    }

    private static Optional<Long> positiveLong(String text) {
        try {
            long value = Long.parseLong(text.strip());
            // Larger than this, the nanosecond arithmetic would overflow; that is 292 years anyway.
            return value > 0 && value <= Long.MAX_VALUE / 1000
                    ? Optional.of(value)
                    : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
