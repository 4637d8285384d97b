package io.capstan.raft;

import com.google.protobuf.ByteString;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What one watch follows, in etcd's terms ({@code WatchCreateRequest}). Immutable.
 *
 * @param key the first key watched
 * @param rangeEnd etcd's range convention: empty watches {@code key} alone, {@code "\0"} every key
 *     from {@code key} on, anything else the half-open range {@code [key, rangeEnd)}
 * @param startRevision the first revision to report; 0 means the revision after the member's
 *     current one (only what happens from now on). A revision at or below the current one is
 *     replayed from history first; one below the compact revision cancels the watch
 * @param prevKv attach to each event the key's version before it, when history still holds it
 * @param filters the event types <em>not</em> to report
 * @param progressNotify receive a progress notification every progress interval in which the watch
 *     reported nothing
 */
public record WatchSpec(
        ByteString key,
        ByteString rangeEnd,
        long startRevision,
        boolean prevKv,
        Set<Filter> filters,
        boolean progressNotify) {

    /** etcd's watch filters: each one drops one event type. */
    public enum Filter {
        NOPUT,
        NODELETE
    }

    /**
     * @throws InvalidCommandException when {@code startRevision} is negative
     */
    public WatchSpec {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(rangeEnd, "rangeEnd");
        filters = Set.copyOf(Objects.requireNonNull(filters, "filters"));
        if (startRevision < 0) {
            throw new InvalidCommandException(
                    InvalidCommandException.Reason.MALFORMED,
                    "watch start_revision must not be negative, got " + startRevision);
        }
    }

    /** Every event on {@code key} alone from now on, without previous versions or filters. */
    public static WatchSpec ofKey(ByteString key) {
        return new WatchSpec(key, ByteString.EMPTY, 0, false, EnumSet.noneOf(Filter.class), false);
    }

    boolean covers(ByteString candidate) {
        return MvccStore.inRange(candidate, key, rangeEnd);
    }

    boolean reports(WatchEvent.Type type) {
        return switch (type) {
            case PUT -> !filters.contains(Filter.NOPUT);
            case DELETE -> !filters.contains(Filter.NODELETE);
        };
    }
}
