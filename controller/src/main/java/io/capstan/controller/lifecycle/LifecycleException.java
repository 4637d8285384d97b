package io.capstan.controller.lifecycle;

import java.util.Optional;

/**
 * Why {@link Lifecycle#start()} did not bring every component up. By the time this is reported,
 * everything that had started has been stopped again.
 */
public final class LifecycleException extends Exception {

    private final String component;

    /** A component failed or timed out while starting; the message names it and the cause. */
    LifecycleException(String component, Throwable cause) {
        super("component '" + component + "' failed to start: " + describe(cause), cause);
        this.component = component;
    }

    /** Start was abandoned without a component failing, e.g. because stop was called first. */
    LifecycleException(String message) {
        super(message);
        this.component = null;
    }

    /** The component whose start failed; empty when start was abandoned because of a stop. */
    public Optional<String> component() {
        return Optional.ofNullable(component);
    }

    /** The cause's message, or its class name when it has none. */
    static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getName() : message;
    }
}
