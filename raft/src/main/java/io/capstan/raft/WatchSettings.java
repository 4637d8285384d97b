package io.capstan.raft;

import java.time.Duration;

/**
 * Bounds of one member's watch hub. Immutable; {@code reference.conf} lists the defaults under
 * {@code capstan.raft.watch}.
 *
 * @param bufferEvents events one watch may have waiting for its listener; a new revision that would
 *     go past it cancels the watch as too slow. A revision is always accepted into an empty buffer,
 *     however many events it has (and at most one progress report waits besides)
 * @param handoffRevisions applied revisions waiting between the apply thread and the hub; when the
 *     hub falls that far behind, the apply thread drops the newest instead of waiting, and the hub
 *     re-reads what it missed from the store's history
 * @param catchUpRevisions revisions of history one catching-up watch reads per pass of the hub, so
 *     a long replay never holds up live watches for long
 * @param maxWatches watches this member serves at once; one more is canceled at once with {@link
 *     WatchCanceled.Cause#TOO_MANY_WATCHES}
 * @param progressInterval how often a watch that asked for progress notifications gets one when it
 *     reported nothing in the interval (etcd: 10 minutes)
 */
public record WatchSettings(
        int bufferEvents,
        int handoffRevisions,
        int catchUpRevisions,
        int maxWatches,
        Duration progressInterval) {

    public static final WatchSettings DEFAULT =
            new WatchSettings(10_000, 16_384, 1_000, 10_000, Duration.ofMinutes(10));

    public WatchSettings {
        positive("bufferEvents", bufferEvents);
        positive("handoffRevisions", handoffRevisions);
        positive("catchUpRevisions", catchUpRevisions);
        positive("maxWatches", maxWatches);
        if (progressInterval == null
                || progressInterval.isZero()
                || progressInterval.isNegative()) {
            throw new IllegalArgumentException(
                    "progressInterval must be a positive duration, got " + progressInterval);
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
