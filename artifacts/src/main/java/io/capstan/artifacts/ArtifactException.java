package io.capstan.artifacts;

import java.io.IOException;

/**
 * Why an artifact's bytes could not be stored or fetched, with a stable {@link Kind} the HTTP layer
 * maps to a status and error code; the message is for people and names the artifact.
 */
final class ArtifactException extends IOException {
    private static final long serialVersionUID = 1L;

    enum Kind {
        /** The bytes' SHA-256 is not the digest they were asked for; nothing was stored. */
        DIGEST_MISMATCH(false),
        /** More bytes than the size limit (or the size declared); nothing was stored. */
        TOO_LARGE(false),
        /** The store's file system is full; nothing was stored. */
        STORE_FULL(false),
        /** A source refused the request in a way another try will not change (a 4xx). */
        REFUSED(false),
        /** The source could not be reached or failed (I/O, a 5xx, a timeout); worth another try. */
        UNAVAILABLE(true);

        private final boolean retryable;

        Kind(boolean retryable) {
            this.retryable = retryable;
        }

        boolean retryable() {
            return retryable;
        }
    }

    private final Kind kind;

    ArtifactException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    ArtifactException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }
}
