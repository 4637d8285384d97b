package io.capstan.raft;

/**
 * A command or query that breaks a rule or a {@link Limits} bound. It was not proposed, so nothing
 * changed. {@link #reason()} lets the API layers map it to their own error codes; the message names
 * the field and the problem.
 */
public final class InvalidCommandException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** What was wrong. */
    public enum Reason {
        EMPTY_KEY,
        KEY_TOO_LARGE,
        VALUE_TOO_LARGE,
        REQUEST_TOO_LARGE,
        TOO_MANY_OPS,
        DUPLICATE_KEY,
        VALUE_PROVIDED,
        LEASE_PROVIDED,
        TTL_TOO_LARGE,
        MALFORMED
    }

    private final Reason reason;

    public InvalidCommandException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
