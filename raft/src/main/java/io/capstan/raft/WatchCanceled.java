package io.capstan.raft;

import java.util.Objects;

/**
 * Why a watch ended, with what the client needs to carry on. Immutable.
 *
 * @param cause the kind of ending
 * @param reason a message for the client (etcd's {@code cancel_reason})
 * @param compactRevision with {@link Cause#COMPACTED}: the member's compact revision, the oldest
 *     start revision a new watch may ask for (etcd's {@code compact_revision}); otherwise 0
 * @param resumeRevision with {@link Cause#TOO_SLOW} and {@link Cause#STOPPED}: every event below
 *     this revision was delivered before the cancellation, so a new watch starting here continues
 *     with no gap and no duplicate; otherwise 0
 */
public record WatchCanceled(Cause cause, String reason, long compactRevision, long resumeRevision) {

    public enum Cause {
        /** The client canceled it ({@link Watch#cancel()}). */
        CANCELED,
        /** Its start revision, or the revision it was catching up from, was compacted away. */
        COMPACTED,
        /** Its listener fell further behind than the buffer allows. */
        TOO_SLOW,
        /** Its listener threw. */
        LISTENER_FAILED,
        /** The member already serves as many watches as its limit allows. */
        TOO_MANY_WATCHES,
        /** The member is stopping. */
        STOPPED
    }

    public WatchCanceled {
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(reason, "reason");
    }
}
