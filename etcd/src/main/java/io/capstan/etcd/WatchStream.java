package io.capstan.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.WatchCreateRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.etcd.api.mvcc.Event;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.capstan.raft.AuthState;
import io.capstan.raft.InvalidCommandException;
import io.capstan.raft.Watch;
import io.capstan.raft.WatchCanceled;
import io.capstan.raft.WatchEvent;
import io.capstan.raft.WatchListener;
import io.capstan.raft.WatchSpec;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One etcd watch stream, whatever carries it (a gRPC call or a gateway response): the watches its
 * client created, keyed by etcd's per-stream watch id, and the responses it owes, as etcd's {@code
 * v3rpc/watch.go} words them.
 *
 * <p><b>Protocol.</b> A create is answered {@code created=true} with the watch id and the member's
 * revision before any event of that watch; a watch id above 0 is the client's choice, 0 asks for
 * the lowest free one (from 0 up, as etcd); a duplicate or a refused request is answered {@code
 * created=true, canceled=true} with the reason (watch id -1 for a duplicate, as etcd). Every create
 * is answered before {@link #create} returns, so the answers come in the order of the creates,
 * which is how etcd clients match them to their requests. A stream holds at most {@code maxWatches}
 * watches at once: etcd has no such bound, so a create beyond it is refused the way etcd refuses
 * any create, watch id -1 and the reason. With auth on, a create needs READ on its range (this
 * member's auth state decides), else it is answered created and canceled with {@code etcdserver:
 * permission denied}, as etcd does. Events come one revision per response, its header carrying that
 * revision. A cancel of a live watch is answered {@code canceled=true}; of an unknown id, not at
 * all. A watch whose start is compacted is canceled with {@code compact_revision}; one too slow for
 * its client, with the reason naming the revision to resume from. A progress request is answered,
 * once every watch of the stream has caught up, by one response with watch id -1 and the lowest
 * revision up to which every watch reported everything (the member's revision when the stream has
 * no watch).
 *
 * <p><b>Flow control.</b> Events and progress notifications wait, on the Raft member's watch
 * delivery thread that carries them, until the transport is ready; that thread may block (the watch
 * hub's contract), and the hub then buffers that watch's events up to its bound and cancels it as
 * too slow. A client that does not read therefore holds one delivery thread per watch until it
 * reads, cancels or goes away, and never more memory than the hub allows. Control responses
 * (created, canceled, progress) are small and never wait: their number is bounded by the requests
 * the transport lets in, which it stops reading while it is not ready.
 *
 * <p><b>A member that stops</b> ends the whole stream with etcd's {@code etcdserver: server
 * stopped} (UNAVAILABLE, see {@link OpenStreams}), never by canceling its watches: a canceled watch
 * is final to etcd clients, a failed stream makes them reconnect and create each watch again from
 * the revision after the last event they got. So does a watch the Raft member ends because it stops
 * ({@link WatchCanceled.Cause#STOPPED}), and a create this member cannot serve because it is
 * stopped.
 *
 * <p><b>Threads and states.</b> Every field below the lock, and every call of the {@link Outbound},
 * is guarded by {@code lock}: requests arrive on the transport's threads, listener calls on
 * delivery threads. The stream is open until {@link #close()} (the transport is gone) or {@link
 * #end} (the member stops), after which every watch is canceled and nothing more is sent. A watch
 * entry is <em>pending</em> while {@link #create} registers it (a cancellation the hub reports
 * reentrantly then is kept and sent after the created response), <em>live</em> once announced, and
 * <em>ended</em> once its cancellation was reported.
 */
final class WatchStream implements OpenStreams.Stream {

    /**
     * The watch id of a response that answers a progress request for every watch (etcd's
     * InvalidWatchID).
     */
    static final long ALL_WATCHES = -1;

    static final String DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";

    /** Where a stream's responses go; called under the stream's lock only. */
    interface Outbound {
        /** The transport takes a response now without buffering past its own bound. */
        boolean isReady();

        void send(WatchResponse response);

        /** Ends the stream with {@code error}; called at most once, and nothing follows. */
        void fail(EtcdError error);
    }

    /** Creates watches on the member (the Raft node's {@code watch}). */
    interface Watches {
        Watch watch(WatchSpec spec, WatchListener listener);
    }

    private static final ByteString LOWEST_KEY = ByteString.copyFrom(new byte[] {0});

    private final Watches watches;
    private final RaftCalls raft;
    private final Outbound out;
    private final int maxWatches;
    private final OpenStreams streams;
    private final ReentrantLock lock = new ReentrantLock();

    /** Signalled when the transport becomes ready, a watch is canceled, or the stream closes. */
    private final Condition writable = lock.newCondition();

    // ---- guarded by lock ----
    private final Map<Long, Entry> entries = new HashMap<>();
    private long nextId;
    private boolean closed;

    /** The watches a progress request still waits for, or null when none is under way. */
    private Set<Entry> progressWaiting;

    private long progressRevision;

    /** Progress requests that arrived while one was under way; each gets its own round. */
    private int progressQueued;

    private WatchStream(
            Watches watches, RaftCalls raft, Outbound out, int maxWatches, OpenStreams streams) {
        this.watches = watches;
        this.raft = raft;
        this.out = out;
        this.maxWatches = maxWatches;
        this.streams = streams;
    }

    /**
     * A new stream sending to {@code out}, open among {@code streams} until it closes or ends; call
     * once the transport can reach {@link #close} and {@link #ready}.
     *
     * @param maxWatches most watches the stream holds at once (ApiLimits#maxWatchesPerStream)
     */
    static WatchStream open(
            Watches watches, RaftCalls raft, Outbound out, int maxWatches, OpenStreams streams) {
        WatchStream stream = new WatchStream(watches, raft, out, maxWatches, streams);
        streams.opened(stream);
        return stream;
    }

    /** Creates one watch and answers it. Never blocks on the client. */
    void create(WatchCreateRequest request) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            long id = request.getWatchId();
            if (id < 0) {
                refuse(id, "etcdserver: watch_id must not be negative, got " + id);
                return;
            }
            // Before an id is taken, so a refused create uses none.
            if (entries.size() >= maxWatches) {
                refuse(
                        ALL_WATCHES,
                        "etcdserver: too many watches on this stream: it holds "
                                + entries.size()
                                + ", the limit (capstan.api.max-watches-per-stream); cancel one or open another stream");
                return;
            }
            if (id == 0) {
                while (entries.containsKey(nextId)) {
                    nextId++;
                }
                id = nextId++;
            } else if (entries.containsKey(id)) {
                refuse(ALL_WATCHES, DUPLICATE_ID);
                return;
            }
            try {
                raft.checkKeys(AuthState.Access.READ, request.getKey(), request.getRangeEnd());
            } catch (EtcdException e) {
                refuse(id, e.getMessage());
                return;
            }
            Entry entry = new Entry(id, request.getProgressNotify());
            Watch watch;
            try {
                watch = watches.watch(spec(request), entry);
            } catch (InvalidCommandException | IllegalStateException e) {
                EtcdError error = EtcdErrors.fromRaft(e, raft.status()).error();
                if (error.code() == Status.Code.UNAVAILABLE) {
                    // This member cannot serve watches (it is stopped): the client goes elsewhere.
                    end(error);
                } else {
                    refuse(id, error.message());
                }
                return;
            }
            entry.watch = watch;
            entry.lastRevision = watch.createdRevision();
            entries.put(id, entry);
            out.send(
                    WatchResponse.newBuilder()
                            .setHeader(raft.header(watch.createdRevision()))
                            .setWatchId(id)
                            .setCreated(true)
                            .build());
            entry.announced = true;
            if (entry.early != null) {
                ended(entry, entry.early);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Cancels the watch {@code id}; its canceled response follows once the member confirms. */
    void cancel(long id) {
        lock.lock();
        try {
            Entry entry = entries.remove(id);
            if (entry != null) {
                entry.cancelRequested = true;
                entry.watch.cancel();
                writable.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Asks for one progress response covering every watch of the stream. */
    void requestProgress() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (progressWaiting != null) {
                progressQueued++;
                return;
            }
            startProgressRound();
        } finally {
            lock.unlock();
        }
    }

    /** The transport can take responses again. */
    void ready() {
        lock.lock();
        try {
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The transport is gone: cancels every watch; nothing more is sent. Idempotent. */
    void close() {
        lock.lock();
        try {
            closeUnderLock();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends the stream with {@code error} (the member stops): cancels every watch, then fails the
     * transport.
     */
    @Override
    public void end(EtcdError error) {
        lock.lock();
        try {
            if (closeUnderLock()) {
                out.fail(error);
            }
        } finally {
            lock.unlock();
        }
    }

    /** False when the stream was closed already. */
    private boolean closeUnderLock() {
        if (closed) {
            return false;
        }
        closed = true;
        streams.closed(this);
        for (Entry entry : entries.values()) {
            entry.cancelRequested = true;
            entry.watch.cancel();
        }
        entries.clear();
        progressWaiting = null;
        writable.signalAll();
        return true;
    }

    private static WatchSpec spec(WatchCreateRequest request) {
        // As etcd: an empty key means the lowest key, so an empty key with range end "\0" is every
        // key.
        ByteString key = request.getKey().isEmpty() ? LOWEST_KEY : request.getKey();
        Set<WatchSpec.Filter> filters = EnumSet.noneOf(WatchSpec.Filter.class);
        for (WatchCreateRequest.FilterType filter : request.getFiltersList()) {
            switch (filter) {
                case NOPUT -> filters.add(WatchSpec.Filter.NOPUT);
                case NODELETE -> filters.add(WatchSpec.Filter.NODELETE);
                // An unknown filter filters nothing, as in etcd.
                case UNRECOGNIZED -> {}
            }
        }
        return new WatchSpec(
                key,
                request.getRangeEnd(),
                request.getStartRevision(),
                request.getPrevKv(),
                filters,
                request.getProgressNotify());
    }

    /**
     * Answers a create that made no watch, at once and under the lock as a created one is: etcd
     * clients match create responses to their requests by order.
     */
    private void refuse(long id, String reason) {
        out.send(
                WatchResponse.newBuilder()
                        .setHeader(raft.header(raft.appliedRevision()))
                        .setWatchId(id)
                        .setCreated(true)
                        .setCanceled(true)
                        .setCancelReason(reason)
                        .build());
    }

    private void startProgressRound() {
        if (entries.isEmpty()) {
            progressWaiting = new HashSet<>();
            progressRevision = Long.MAX_VALUE;
            raft.currentRevision().whenComplete((revision, error) -> progressAnswered(revision));
            return;
        }
        progressWaiting = new HashSet<>(entries.values());
        progressRevision = Long.MAX_VALUE;
        for (Entry entry : progressWaiting) {
            entry.progressAsked = true;
            entry.watch.requestProgress();
        }
    }

    /**
     * The member's revision, for a progress request made while the stream has no watch; null when
     * the member could not say (it is stopping), which drops the request.
     */
    private void progressAnswered(Long revision) {
        lock.lock();
        try {
            if (progressWaiting == null || !progressWaiting.isEmpty()) {
                return;
            }
            if (revision == null) {
                progressWaiting = null;
                progressQueued = 0;
                return;
            }
            progressRevision = revision;
            finishProgressRound();
        } finally {
            lock.unlock();
        }
    }

    /** {@code entry} reported everything up to {@code revision}, or ended (revision -1). */
    private void progressReported(Entry entry, long revision) {
        entry.progressAsked = false;
        if (progressWaiting == null || !progressWaiting.remove(entry)) {
            return;
        }
        if (revision >= 0) {
            progressRevision = Math.min(progressRevision, revision);
        }
        if (progressWaiting.isEmpty()) {
            finishProgressRound();
        }
    }

    private void finishProgressRound() {
        if (progressRevision != Long.MAX_VALUE) {
            out.send(
                    WatchResponse.newBuilder()
                            .setHeader(raft.header(progressRevision))
                            .setWatchId(ALL_WATCHES)
                            .build());
            progressWaiting = null;
        } else {
            // Every watch ended during the round: ask the member instead.
            progressWaiting = null;
            startProgressRound();
            return;
        }
        if (progressQueued > 0) {
            progressQueued--;
            startProgressRound();
        }
    }

    private void ended(Entry entry, WatchCanceled canceled) {
        if (canceled.cause() == WatchCanceled.Cause.STOPPED) {
            end(EtcdErrors.STOPPED);
            return;
        }
        entries.remove(entry.id, entry);
        progressReported(entry, -1);
        if (closed) {
            return;
        }
        WatchResponse.Builder response =
                WatchResponse.newBuilder()
                        .setHeader(raft.header(entry.lastRevision))
                        .setWatchId(entry.id)
                        .setCanceled(true);
        switch (canceled.cause()) {
            case CANCELED -> {}
            case COMPACTED ->
                    response.setCompactRevision(canceled.compactRevision())
                            .setCancelReason(EtcdErrors.COMPACTED.message());
            default -> response.setCancelReason(canceled.reason());
        }
        out.send(response.build());
    }

    /**
     * Waits, holding a delivery thread, until the transport is ready; false when the response is no
     * longer wanted (the watch or the stream ended, or the delivery thread is interrupted).
     */
    private boolean awaitWritable(Entry entry) {
        while (!closed && !entry.cancelRequested && !out.isReady()) {
            try {
                writable.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !closed && !entry.cancelRequested;
    }

    private static Event event(WatchEvent change) {
        Event.Builder event =
                Event.newBuilder()
                        .setType(
                                change.type() == WatchEvent.Type.PUT
                                        ? Event.EventType.PUT
                                        : Event.EventType.DELETE)
                        .setKv(Wire.toEtcd(change.kv(), KeyValue.newBuilder()));
        if (change.prevKv() != null) {
            event.setPrevKv(Wire.toEtcd(change.prevKv(), KeyValue.newBuilder()));
        }
        return event.build();
    }

    /**
     * One watch of this stream and its listener; its mutable fields are guarded by the stream's
     * lock.
     */
    private final class Entry implements WatchListener {
        final long id;
        final boolean progressNotify;
        Watch watch;
        boolean announced;
        boolean cancelRequested;
        boolean progressAsked;

        /** The newest revision reported to the client for this watch. */
        long lastRevision;

        /** A cancellation reported before the created response went out. */
        WatchCanceled early;

        Entry(long id, boolean progressNotify) {
            this.id = id;
            this.progressNotify = progressNotify;
        }

        @Override
        public void onEvents(long revision, List<WatchEvent> changes) {
            List<Event> events = new ArrayList<>(changes.size());
            for (WatchEvent change : changes) {
                events.add(event(change));
            }
            lock.lock();
            try {
                if (!awaitWritable(this)) {
                    return;
                }
                lastRevision = revision;
                out.send(
                        WatchResponse.newBuilder()
                                .setHeader(raft.header(revision))
                                .setWatchId(id)
                                .addAllEvents(events)
                                .build());
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onProgress(long revision) {
            lock.lock();
            try {
                if (progressAsked) {
                    progressReported(this, revision);
                    return;
                }
                if (!progressNotify || !awaitWritable(this)) {
                    return;
                }
                lastRevision = Math.max(lastRevision, revision);
                out.send(
                        WatchResponse.newBuilder()
                                .setHeader(raft.header(revision))
                                .setWatchId(id)
                                .build());
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onCanceled(WatchCanceled canceled) {
            lock.lock();
            try {
                if (announced) {
                    ended(this, canceled);
                } else {
                    early = canceled;
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
