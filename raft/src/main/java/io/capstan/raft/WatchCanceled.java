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

    static WatchCanceled byClient() {
        return new WatchCanceled(Cause.CANCELED, "watch canceled by the client", 0, 0);
    }

    static WatchCanceled compacted(long revision, long compact) {
        return new WatchCanceled(
                Cause.COMPACTED,
                "required revision "
                        + revision
                        + " has been compacted; compact revision is "
                        + compact,
                compact,
                0);
    }

    static WatchCanceled tooSlow(int pending, int limit, long resume) {
        return new WatchCanceled(
                Cause.TOO_SLOW,
                "watcher too slow: "
                        + pending
                        + " events not yet taken by its listener (limit "
                        + limit
                        + "); every event before revision "
                        + resume
                        + " was delivered, resume from revision "
                        + resume,
                0,
                resume);
    }

    static WatchCanceled listenerFailed(RuntimeException error) {
        return new WatchCanceled(Cause.LISTENER_FAILED, "watch listener failed: " + error, 0, 0);
    }

    static WatchCanceled tooManyWatches(String nodeId, int limit) {
        return new WatchCanceled(
                Cause.TOO_MANY_WATCHES,
                "member "
                        + nodeId
                        + " already serves "
                        + limit
                        + " watches, its limit (capstan.raft.watch.max-watches)",
                0,
                0);
    }

    static WatchCanceled stopped(String reason, long resume) {
        return new WatchCanceled(
                Cause.STOPPED, reason + "; resume from revision " + resume, 0, resume);
    }
}
