package io.capstan.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.election.LeaderResponse;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.capstan.raft.InvalidCommandException;
import io.capstan.raft.Watch;
import io.capstan.raft.WatchCanceled;
import io.capstan.raft.WatchEvent;
import io.capstan.raft.WatchListener;
import io.capstan.raft.WatchSpec;
import io.grpc.Context;
import io.grpc.Status.Code;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One Observe stream of an election (whatever carries it: a gRPC call or a gateway response): the
 * leader's key-value each time leadership or the leader's value changes, in order, each version
 * once, as etcd's election recipe observes it.
 *
 * <p><b>How.</b> It reads the election's first key. With none, it watches the whole prefix from the
 * revision after the read and takes the first put as the new leader; with one, it sends it and
 * watches that key alone from the revision after the read, sending each put, until the key is
 * deleted; then it reads again. Every read and watch after the first is on this member alone
 * (serializable reads, and watches fed by this member's apply thread, which report a revision only
 * once it is readable here), so the stream goes on across a Raft leader change. The first read is
 * linearizable, so a stream never starts behind the call. A read that fails because the member
 * cannot serve now is retried after {@link KeyQueue#RETRY_DELAY}; a watch too slow for its client
 * resumes where it stopped. The last version sent is remembered, so nothing is sent twice.
 *
 * <p><b>Flow control.</b> Values from watch reports wait, on the delivery thread that carries them,
 * until the transport is ready (the watch hub's contract allows it; it buffers meanwhile and ends a
 * watch that falls too far behind, which then resumes). A value from a read is sent at once: a read
 * follows a deletion, which also waited for the transport, so at most one value is ever sent beyond
 * what the transport said it could take.
 *
 * <p><b>Threads and states.</b> Open until {@link #close()} (the transport is gone) or a failure,
 * which is sent once; then the watch is cancelled and nothing more is sent. A member that stops
 * fails it with {@code etcdserver: server stopped} (UNAVAILABLE, see {@link OpenStreams}), so the
 * client observes again elsewhere. The fields below the lock, and every call of the {@link
 * Outbound}, are guarded by {@code lock}: reads complete on the API executor, watch reports on
 * delivery threads, the transport calls {@link #ready} and {@link #close} from its own threads.
 */
final class LeaderObserver implements OpenStreams.Stream {

    /** Where the stream's responses go; called under the observer's lock only. */
    interface Outbound {
        /** The transport takes a response now without buffering past its own bound. */
        boolean isReady();

        void send(LeaderResponse response);

        /** Ends the stream with {@code error}; nothing follows. */
        void fail(EtcdError error);
    }

    private final ByteString prefix;
    private final KvOperations kv;
    private final WatchStream.Watches watches;
    private final RaftCalls raft;
    private final Executor retries;
    private final Outbound out;
    private final OpenStreams streams;
    private final ReentrantLock lock = new ReentrantLock();

    /** Signalled when the transport becomes ready or the stream ends. */
    private final Condition writable = lock.newCondition();

    // ---- guarded by lock ----
    private boolean closed;

    /** The watch under way, or null while a read is. */
    private Follow current;

    private ByteString lastKey;
    private long lastModRevision;

    /** The caller's context (who it is), for reads started later by watch reports. */
    private final Context callerContext = Context.current();

    /**
     * @param executor the API executor, which runs retried reads
     * @param streams where the observer is open from {@link #start} until it ends
     */
    LeaderObserver(
            ByteString prefix,
            KvOperations kv,
            WatchStream.Watches watches,
            RaftCalls raft,
            Executor executor,
            Outbound out,
            OpenStreams streams) {
        this.prefix = prefix;
        this.kv = kv;
        this.watches = watches;
        this.raft = raft;
        this.retries =
                CompletableFuture.delayedExecutor(
                        KeyQueue.RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS, executor);
        this.out = out;
        this.streams = streams;
    }

    /** Reads the current leader and starts following; call once. */
    void start() {
        streams.opened(this);
        read(false);
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

    /** The transport is gone: ends the watch; nothing more is sent. Idempotent. */
    void close() {
        lock.lock();
        try {
            closed = true;
            streams.closed(this);
            stopFollowing();
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void read(boolean serializable) {
        RangeRequest first =
                KeyQueue.first(prefix).toBuilder().setSerializable(serializable).build();
        // Reads that a watch report starts run as the observer's caller too.
        CompletableFuture<RangeResponse> reading;
        Context previous = callerContext.attach();
        try {
            reading = kv.range(first);
        } finally {
            callerContext.detach(previous);
        }
        reading.whenComplete(
                (response, error) -> {
                    if (error == null) {
                        found(response);
                        return;
                    }
                    EtcdError failure = EtcdErrors.of(error);
                    if (failure.code() == Code.UNAVAILABLE
                            && !failure.equals(EtcdErrors.STOPPED)
                            && isOpen()) {
                        retries.execute(() -> read(serializable));
                    } else {
                        fail(EtcdErrors.viaClient(error));
                    }
                });
    }

    /** A read answered: sends the leader it found, then follows it, or waits for one. */
    private void found(RangeResponse response) {
        long revision = response.getHeader().getRevision();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (response.getKvsCount() == 0) {
                follow(
                        new WatchSpec(
                                prefix,
                                KeyQueue.prefixEnd(prefix),
                                revision + 1,
                                false,
                                EnumSet.of(WatchSpec.Filter.NODELETE),
                                false),
                        false);
            } else {
                KeyValue leader = response.getKvs(0);
                send(leader, revision);
                follow(onlyKey(leader.getKey(), revision + 1), true);
            }
        } finally {
            lock.unlock();
        }
    }

    private static WatchSpec onlyKey(ByteString key, long from) {
        return new WatchSpec(key, ByteString.EMPTY, from, false, Set.of(), false);
    }

    /** Under the lock: opens a watch and makes it the current one. */
    private void follow(WatchSpec spec, boolean leaderKnown) {
        Follow follow = new Follow(spec, leaderKnown);
        try {
            follow.watch = watches.watch(spec, follow);
        } catch (InvalidCommandException | IllegalStateException e) {
            fail(EtcdErrors.fromRaft(e, raft.status()).error());
            return;
        }
        current = follow;
    }

    /** Under the lock. */
    private void stopFollowing() {
        if (current != null) {
            current.watch.cancel();
            current = null;
        }
    }

    /** Under the lock: sends {@code leader} unless it is the version sent last. */
    private void send(KeyValue leader, long revision) {
        if (leader.getKey().equals(lastKey) && leader.getModRevision() == lastModRevision) {
            return;
        }
        out.send(
                LeaderResponse.newBuilder().setHeader(raft.header(revision)).setKv(leader).build());
        lastKey = leader.getKey();
        lastModRevision = leader.getModRevision();
    }

    /** Ends the stream with {@code error}, once; the member stops. */
    @Override
    public void end(EtcdError error) {
        fail(error);
    }

    private void fail(EtcdError error) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            streams.closed(this);
            stopFollowing();
            writable.signalAll();
            out.fail(error);
        } finally {
            lock.unlock();
        }
    }

    private boolean isOpen() {
        lock.lock();
        try {
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock: waits, holding a delivery thread, until the transport is ready; false when
     * the stream ended meanwhile (or the thread was interrupted).
     */
    private boolean awaitWritable() {
        while (!closed && !out.isReady()) {
            try {
                writable.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !closed;
    }

    private static KeyValue etcd(WatchEvent event) {
        return Wire.toEtcd(event.kv(), KeyValue.newBuilder()).build();
    }

    /**
     * One watch of the stream: on the leader key ({@code leaderKnown}), or on the whole prefix for
     * puts while there is no leader. Reports of a watch no longer current are dropped.
     */
    private final class Follow implements WatchListener {
        final WatchSpec spec;
        final boolean leaderKnown;

        /** Set under the observer's lock, before any report can take it. */
        Watch watch;

        Follow(WatchSpec spec, boolean leaderKnown) {
            this.spec = spec;
            this.leaderKnown = leaderKnown;
        }

        @Override
        public void onEvents(long revision, List<WatchEvent> events) {
            lock.lock();
            try {
                if (leaderKnown) {
                    followed(revision, events);
                } else {
                    elected(etcd(events.get(0)));
                }
            } finally {
                lock.unlock();
            }
        }

        /** Puts and the deletion of the leader key. */
        private void followed(long revision, List<WatchEvent> events) {
            for (WatchEvent event : events) {
                if (current != this || !awaitWritable() || current != this) {
                    return;
                }
                if (event.type() == WatchEvent.Type.DELETE) {
                    stopFollowing();
                    read(true);
                    return;
                }
                send(etcd(event), revision);
            }
        }

        /** The first put under a prefix that had no key: the new leader. */
        private void elected(KeyValue leader) {
            if (current != this) {
                return;
            }
            stopFollowing();
            if (!awaitWritable()) {
                return;
            }
            send(leader, leader.getModRevision());
            follow(onlyKey(leader.getKey(), leader.getModRevision() + 1), true);
        }

        @Override
        public void onProgress(long revision) {}

        @Override
        public void onCanceled(WatchCanceled canceled) {
            lock.lock();
            try {
                if (current != this) {
                    return;
                }
                current = null;
                switch (canceled.cause()) {
                    case TOO_SLOW ->
                            follow(
                                    new WatchSpec(
                                            spec.key(),
                                            spec.rangeEnd(),
                                            canceled.resumeRevision(),
                                            false,
                                            spec.filters(),
                                            false),
                                    leaderKnown);
                    case COMPACTED -> read(true);
                    case STOPPED -> fail(EtcdErrors.STOPPED);
                    default -> fail(EtcdErrors.unknown(canceled.reason()));
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
