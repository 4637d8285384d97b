package io.capstan.etcd;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The calls of one member that last until their client ends them: Watch, LeaseKeepAlive and Observe
 * streams, Snapshot downloads, and Lock and Campaign waits, over gRPC or the JSON gateway. When the
 * member stops, {@link #stop()} ends each of them with etcd's {@code etcdserver: server stopped}
 * (UNAVAILABLE), which etcd clients take as "reconnect and resume" (to another member, or to this
 * one once it is back), where the cancellation that closing the transport would send is final to
 * them. A stream opened after {@link #stop()} (its call was let in just before) ends at once.
 *
 * <p>Threads: any thread opens, closes and stops; the set is concurrent, and whoever takes a stream
 * out of it (its own close, or the stop) is the only one to act on it, so each stream is ended at
 * most once by the stop, and never after it closed itself.
 */
final class OpenStreams {

    /**
     * A call that ends only when told to; {@link #end} must not block and may run on any thread.
     */
    interface Stream {
        /**
         * Ends the call with {@code error}: its resources are released and nothing more is sent.
         */
        void end(EtcdError error);
    }

    private final Set<Stream> open = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    /** {@code stream} has begun; ends it at once when the member is stopping. */
    void opened(Stream stream) {
        open.add(stream);
        if (stopping && open.remove(stream)) {
            stream.end(EtcdErrors.STOPPED);
        }
    }

    /** {@code stream} ended by itself; a stop no longer touches it. Idempotent. */
    void closed(Stream stream) {
        open.remove(stream);
    }

    /**
     * Ends every open stream, and every stream opened from now on, with "server stopped".
     * Idempotent.
     */
    void stop() {
        stopping = true;
        for (Stream stream : open) {
            if (open.remove(stream)) {
                stream.end(EtcdErrors.STOPPED);
            }
        }
    }

    /** How many streams are open now. */
    int count() {
        return open.size();
    }
}
