package io.capstan.raft;

import java.util.List;

/**
 * Receives what one watch reports.
 *
 * <p><b>Contract.</b> Calls are serial (never two at once, each one visible to the next) and run on
 * one of the member's watch delivery threads. They come in revision order: {@link #onEvents} with
 * strictly increasing revisions, each revision's events all in one call, every revision at most
 * once; {@link #onProgress} interleaved, never below a revision already reported; {@link
 * #onCanceled} exactly once and last. When {@link #onEvents} reports revision R, this member's
 * store is readable at R.
 *
 * <p>A listener may take its time or block (to push back on a slow client): while it does, the
 * watch's events wait in a bounded buffer, and when that overflows the watch ends with {@link
 * WatchCanceled.Cause#TOO_SLOW}. Neither the apply path nor other watches wait for it. A listener
 * that throws from {@link #onEvents} or {@link #onProgress} is canceled with {@link
 * WatchCanceled.Cause#LISTENER_FAILED}.
 */
public interface WatchListener {

    /**
     * The changes of one revision that match the watch, ordered by key (in etcd, by the order of
     * operations in the transaction; revision order across calls is the same). Never empty.
     */
    void onEvents(long revision, List<WatchEvent> events);

    /** Every event of this watch up to {@code revision} has been reported. */
    void onProgress(long revision);

    /** The watch ended; nothing follows. */
    void onCanceled(WatchCanceled canceled);
}
