package io.capstan.etcd;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.ResponseHeader;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.capstan.raft.InvalidCommandException;
import io.capstan.raft.Watch;
import io.capstan.raft.WatchCanceled;
import io.capstan.raft.WatchEvent;
import io.capstan.raft.WatchListener;
import io.capstan.raft.WatchSpec;
import io.grpc.Context;
import io.grpc.Status.Code;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue of keys under a prefix that etcd's Lock and Election services stand on (etcd's
 * concurrency recipes, run here on the server). A caller joins with the key {@code prefix + <its
 * lease id in hex>}, attached to its lease; its turn comes when no key under the prefix has a lower
 * create revision.
 *
 * <p><b>Joining</b> is one transaction: put the key if it does not exist (compare create revision
 * 0), else read it (a caller whose lease already queued reuses its key and its place, as in etcd),
 * and read the first key of the queue in both cases. A caller that names lease 0 gets a lease of
 * {@link #DEFAULT_TTL_SECONDS} first, which nothing keeps alive, as etcd's session does.
 *
 * <p><b>Waiting</b> holds no thread: it reads the key just before the caller's (the highest create
 * revision below its own), watches that key's deletion from the revision read, and reads again once
 * it is gone, until no key precedes the caller's; then it reads the caller's key once more, which
 * must still exist (its lease may have expired meanwhile). A holder whose lease expires or is
 * revoked is deleted like any key, so the next caller's watch sees it at once. Reads that fail
 * because the member cannot serve now (no leader, timed out) are retried after {@link #RETRY_DELAY}
 * for as long as the caller waits, so a wait outlives a Raft election.
 *
 * <p><b>Leaving</b>: cancelling the future {@link #join} returned ends the wait and deletes the
 * key, if it still has the create revision the join gave it; so does any failure after the key was
 * written, and cancelling an {@link #answer} that was already given. So a caller that gives up or
 * goes away leaves no key behind, except when the joining write itself fails in a way that leaves
 * its outcome unknown (a timeout): the key then stays until its lease ends, as in etcd.
 *
 * <p><b>A member that stops</b> fails every wait not yet answered with {@code etcdserver: server
 * stopped} (UNAVAILABLE, see {@link OpenStreams}) and takes its key out of the queue as a cancelled
 * caller's, while the Raft member still runs; the client may queue again elsewhere.
 *
 * <p>Immutable; safe on any thread. Each join's state is owned by its {@link Candidate}.
 */
final class KeyQueue {

    private static final Logger LOG = LoggerFactory.getLogger(KeyQueue.class);

    /** The TTL of the lease granted to a caller that names none (etcd's default session TTL). */
    static final long DEFAULT_TTL_SECONDS = 60;

    static final Duration RETRY_DELAY = Duration.ofMillis(200);

    /**
     * A caller's place at the head of its queue.
     *
     * @param key the caller's key
     * @param createRevision the key's create revision, which proves the place
     * @param lease the lease the key is attached to
     * @param header the header of the read or write that showed the caller first
     */
    record Place(ByteString key, long createRevision, long lease, ResponseHeader header) {}

    private final KvOperations kv;
    private final LeaseOperations leases;
    private final WatchStream.Watches watches;
    private final RaftCalls raft;
    private final Executor retries;
    private final OpenStreams streams;

    /**
     * @param executor the API executor, which runs retried reads
     * @param streams where each wait is open until it is answered
     */
    KeyQueue(
            KvOperations kv,
            LeaseOperations leases,
            WatchStream.Watches watches,
            RaftCalls raft,
            Executor executor,
            OpenStreams streams) {
        this.kv = kv;
        this.leases = leases;
        this.watches = watches;
        this.raft = raft;
        this.streams = streams;
        this.retries =
                CompletableFuture.delayedExecutor(
                        RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS, executor);
    }

    /**
     * Queues {@code prefix + hex(lease)} with {@code value} and completes once it is first. Cancel
     * the future to leave the queue.
     *
     * @param replaceValue when the caller's key already exists with another value, replace it (an
     *     election candidate's new value), else keep it (a lock)
     * @param lost the failure when the caller's key vanished while it waited
     * @return fails with an {@link EtcdException}
     */
    CompletableFuture<Place> join(
            ByteString prefix, long lease, ByteString value, boolean replaceValue, EtcdError lost) {
        CompletableFuture<Place> result = new CompletableFuture<>();
        if (lease < 0) {
            // No lease has a negative id: etcd's put finds none.
            result.completeExceptionally(EtcdErrors.LEASE_NOT_FOUND.toException());
        } else if (lease == 0) {
            leases.grant(LeaseGrantRequest.newBuilder().setTTL(DEFAULT_TTL_SECONDS).build())
                    .whenComplete(
                            (granted, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(
                                            EtcdErrors.of(error).toException());
                                } else if (!result.isDone()) {
                                    new Candidate(
                                                    result,
                                                    prefix,
                                                    granted.getID(),
                                                    value,
                                                    replaceValue,
                                                    lost)
                                            .start();
                                }
                            });
        } else {
            new Candidate(result, prefix, lease, value, replaceValue, lost).start();
        }
        return result;
    }

    /**
     * {@code joined} mapped to a response. Cancelling the response says the caller will never see
     * it: a caller still waiting leaves the queue, and a place already won is given back (its key
     * deleted), so a caller that went away holds nothing. Failures are worded as etcd's concurrency
     * services word them ({@link EtcdErrors#viaClient}). The answer is open among the member's
     * streams until it completes.
     */
    <R> CompletableFuture<R> answer(CompletableFuture<Place> joined, Function<Place, R> response) {
        Answer<R> reply = new Answer<>(joined);
        streams.opened(reply);
        reply.whenComplete((value, error) -> streams.closed(reply));
        joined.whenComplete(
                (place, error) -> {
                    if (error == null) {
                        if (!reply.complete(response.apply(place))) {
                            leave(place.key(), place.createRevision());
                        }
                    } else if (!(error instanceof CancellationException)) {
                        reply.completeExceptionally(EtcdErrors.viaClient(error).toException());
                    }
                });
        return reply;
    }

    /** The answer to a caller of {@link #answer}; see there for what cancelling it does. */
    private final class Answer<R> extends CompletableFuture<R> implements OpenStreams.Stream {
        private final CompletableFuture<Place> joined;

        Answer(CompletableFuture<Place> joined) {
            this.joined = joined;
        }

        /** The member stops: a caller still waiting gets {@code error} and leaves the queue. */
        @Override
        public void end(EtcdError error) {
            if (completeExceptionally(error.toException())) {
                joined.cancel(false);
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                joined.cancel(false);
            } else if (!isCompletedExceptionally()) {
                // Answered already, but the caller is gone before reading it.
                Place place = joined.join();
                leave(place.key(), place.createRevision());
            }
            return cancelled;
        }
    }

    /**
     * Deletes {@code key} if it still has {@code createRevision}, that is, still holds the same
     * place.
     */
    private void leave(ByteString key, long createRevision) {
        TxnRequest delete =
                TxnRequest.newBuilder()
                        .addCompare(createdAt(key, createRevision))
                        .addSuccess(
                                RequestOp.newBuilder()
                                        .setRequestDeleteRange(
                                                DeleteRangeRequest.newBuilder().setKey(key)))
                        .build();
        kv.txn(delete)
                .whenComplete(
                        (response, error) -> {
                            if (error != null) {
                                LOG.debug(
                                        "could not take {} out of its queue: {}",
                                        key.toStringUtf8(),
                                        error.toString());
                            }
                        });
    }

    /**
     * The first key after every key that starts with {@code prefix} ("\0" when there is none), as
     * etcd's clients compute it.
     */
    static ByteString prefixEnd(ByteString prefix) {
        byte[] end = prefix.toByteArray();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteString.copyFrom(end, 0, i + 1);
            }
        }
        return ByteString.copyFrom(new byte[] {0});
    }

    /** The first key of the queue: the lowest create revision under {@code prefix}. */
    static RangeRequest first(ByteString prefix) {
        return RangeRequest.newBuilder()
                .setKey(prefix)
                .setRangeEnd(prefixEnd(prefix))
                .setSortTarget(RangeRequest.SortTarget.CREATE)
                .setSortOrder(RangeRequest.SortOrder.ASCEND)
                .setLimit(1)
                .build();
    }

    /** The compare "{@code key} was created at {@code revision}" (0: does not exist). */
    static Compare createdAt(ByteString key, long revision) {
        return Compare.newBuilder()
                .setKey(key)
                .setTarget(Compare.CompareTarget.CREATE)
                .setResult(Compare.CompareResult.EQUAL)
                .setCreateRevision(revision)
                .build();
    }

    /**
     * One caller's way through the queue, a chain of steps each started by the completion of the
     * one before (a Raft call on the API executor, or a watch report on a delivery thread), so no
     * two steps run at once. Its fields below are guarded by this object's lock, which fences the
     * steps against {@link #abandon} (run by whoever cancels the result) and is held while a watch
     * is created, so the watch's reports find it recorded.
     */
    private final class Candidate {
        private final CompletableFuture<Place> result;
        private final ByteString prefix;
        private final ByteString key;
        private final long lease;
        private final ByteString value;
        private final boolean replaceValue;
        private final EtcdError lost;

        /** The key's create revision; 0 until the joining write answered. */
        private long createRevision;

        /** The key was deleted (or found gone), or its deletion is under way. */
        private boolean removed;

        /** The watch on the key before the caller's, while one is open. */
        private Deletion waiting;

        /**
         * The caller's context (who it is), restored for the steps a watch report or a retry
         * starts.
         */
        private final Context callerContext = Context.current();

        Candidate(
                CompletableFuture<Place> result,
                ByteString prefix,
                long lease,
                ByteString value,
                boolean replaceValue,
                EtcdError lost) {
            this.result = result;
            this.prefix = prefix;
            this.key = prefix.concat(ByteString.copyFromUtf8(Long.toHexString(lease)));
            this.lease = lease;
            this.value = value;
            this.replaceValue = replaceValue;
            this.lost = lost;
        }

        void start() {
            result.whenComplete(
                    (place, error) -> {
                        if (error != null) {
                            callerContext.run(this::abandon);
                        }
                    });
            RangeRequest first = first(prefix);
            TxnRequest join =
                    TxnRequest.newBuilder()
                            .addCompare(createdAt(key, 0))
                            .addSuccess(
                                    RequestOp.newBuilder()
                                            .setRequestPut(
                                                    PutRequest.newBuilder()
                                                            .setKey(key)
                                                            .setValue(value)
                                                            .setLease(lease)))
                            .addSuccess(RequestOp.newBuilder().setRequestRange(first))
                            .addFailure(
                                    RequestOp.newBuilder()
                                            .setRequestRange(RangeRequest.newBuilder().setKey(key)))
                            .addFailure(RequestOp.newBuilder().setRequestRange(first))
                            .build();
            kv.txn(join).whenComplete(this::joined);
        }

        private void joined(TxnResponse response, Throwable error) {
            if (error != null) {
                fail(EtcdErrors.of(error));
                return;
            }
            KeyValue existing =
                    response.getSucceeded()
                            ? null
                            : response.getResponses(0).getResponseRange().getKvs(0);
            long revision =
                    existing == null
                            ? response.getHeader().getRevision()
                            : existing.getCreateRevision();
            boolean abandoned;
            synchronized (this) {
                createRevision = revision;
                abandoned = result.isDone();
            }
            if (abandoned) {
                abandon();
                return;
            }
            List<KeyValue> head = response.getResponses(1).getResponseRange().getKvsList();
            boolean first = head.isEmpty() || head.get(0).getCreateRevision() == revision;
            Place place = new Place(key, revision, lease, response.getHeader());
            if (replaceValue && existing != null && !existing.getValue().equals(value)) {
                replaceValue(revision).thenRun(() -> proceed(first, place));
            } else {
                proceed(first, place);
            }
        }

        /**
         * The caller's key existed with another value: puts the new one while the key is still the
         * caller's.
         */
        private CompletableFuture<Void> replaceValue(long revision) {
            TxnRequest put =
                    TxnRequest.newBuilder()
                            .addCompare(createdAt(key, revision))
                            .addSuccess(
                                    RequestOp.newBuilder()
                                            .setRequestPut(
                                                    PutRequest.newBuilder()
                                                            .setKey(key)
                                                            .setValue(value)
                                                            .setLease(lease)))
                            .build();
            return kv.txn(put)
                    .handle(
                            (response, error) -> {
                                if (error != null) {
                                    fail(EtcdErrors.of(error));
                                } else if (!response.getSucceeded()) {
                                    fail(EtcdErrors.ELECTION_NOT_LEADER);
                                }
                                return null;
                            });
        }

        private void proceed(boolean first, Place place) {
            if (result.isDone()) {
                return;
            }
            if (first) {
                result.complete(place);
            } else {
                nextPredecessor();
            }
        }

        /** Reads the key just before the caller's; none left means the caller's turn came. */
        private void nextPredecessor() {
            if (result.isDone()) {
                return;
            }
            long own;
            synchronized (this) {
                own = createRevision;
            }
            RangeRequest before =
                    RangeRequest.newBuilder()
                            .setKey(prefix)
                            .setRangeEnd(prefixEnd(prefix))
                            .setMaxCreateRevision(own - 1)
                            .setSortTarget(RangeRequest.SortTarget.CREATE)
                            .setSortOrder(RangeRequest.SortOrder.DESCEND)
                            .setLimit(1)
                            .build();
            kv.range(before)
                    .whenComplete(
                            (response, error) -> {
                                if (error != null) {
                                    retryOrFail(error, this::nextPredecessor);
                                } else if (response.getKvsCount() == 0) {
                                    confirm();
                                } else {
                                    awaitDeletion(
                                            response.getKvs(0).getKey(),
                                            response.getHeader().getRevision());
                                }
                            });
        }

        /**
         * Watches {@code predecessor} from {@code revision}, the revision it was read at, for its
         * deletion.
         */
        private void awaitDeletion(ByteString predecessor, long revision) {
            WatchSpec spec =
                    new WatchSpec(
                            predecessor,
                            ByteString.EMPTY,
                            revision,
                            false,
                            EnumSet.of(WatchSpec.Filter.NOPUT),
                            false);
            synchronized (this) {
                if (result.isDone()) {
                    return;
                }
                Deletion deletion = new Deletion();
                try {
                    deletion.watch = watches.watch(spec, deletion);
                } catch (InvalidCommandException | IllegalStateException e) {
                    fail(EtcdErrors.fromRaft(e, raft.status()).error());
                    return;
                }
                waiting = deletion;
            }
        }

        /** No key precedes the caller's: its turn came if its key still exists. */
        private void confirm() {
            if (result.isDone()) {
                return;
            }
            long own;
            synchronized (this) {
                own = createRevision;
            }
            kv.range(RangeRequest.newBuilder().setKey(key).build())
                    .whenComplete(
                            (response, error) -> {
                                if (error != null) {
                                    retryOrFail(error, this::confirm);
                                } else if (response.getKvsCount() == 0
                                        || response.getKvs(0).getCreateRevision() != own) {
                                    synchronized (this) {
                                        removed = true;
                                    }
                                    fail(lost);
                                } else {
                                    result.complete(
                                            new Place(key, own, lease, response.getHeader()));
                                }
                            });
        }

        private void retryOrFail(Throwable error, Runnable step) {
            EtcdError failure = EtcdErrors.of(error);
            if (failure.code() == Code.UNAVAILABLE && !failure.equals(EtcdErrors.STOPPED)) {
                LOG.debug("queue read failed, retrying: {}", failure.message());
                retries.execute(callerContext.wrap(step));
            } else {
                fail(failure);
            }
        }

        private void fail(EtcdError error) {
            result.completeExceptionally(error.toException());
        }

        /**
         * The result failed or was cancelled: ends the wait and takes the key out of the queue.
         * Runs once per path.
         */
        private void abandon() {
            Deletion open;
            long revision;
            synchronized (this) {
                open = waiting;
                waiting = null;
                revision = removed ? 0 : createRevision;
                if (revision != 0) {
                    removed = true;
                }
            }
            if (open != null) {
                open.watch.cancel();
            }
            if (revision != 0) {
                leave(key, revision);
            }
        }

        /**
         * One watch for the deletion of the key before the caller's; reports only deletions
         * (NOPUT).
         */
        private final class Deletion implements WatchListener {
            /** Set under the candidate's lock, before any report can take it. */
            Watch watch;

            /**
             * True, once, for the report that ends this watch's part; false for a watch already
             * replaced.
             */
            private boolean take() {
                synchronized (Candidate.this) {
                    if (waiting != this) {
                        return false;
                    }
                    waiting = null;
                    return true;
                }
            }

            @Override
            public void onEvents(long revision, List<WatchEvent> events) {
                if (take()) {
                    watch.cancel();
                    callerContext.run(Candidate.this::nextPredecessor);
                }
            }

            @Override
            public void onProgress(long revision) {}

            @Override
            public void onCanceled(WatchCanceled canceled) {
                if (!take()) {
                    return;
                }
                switch (canceled.cause()) {
                    // Start again from a fresh read.
                    case COMPACTED, TOO_SLOW -> callerContext.run(Candidate.this::nextPredecessor);
                    case STOPPED -> fail(EtcdErrors.STOPPED);
                    default -> fail(EtcdErrors.unknown(canceled.reason()));
                }
            }
        }
    }
}
