package io.capstan.transport;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.ratis.proto.RaftProtos.SlidingWindowEntry;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;

/**
 * Hands each client's ordered async requests to Ratis in the order the client issued them.
 *
 * <p>Why: a {@code RaftClient}'s {@code async()} API promises that its requests take effect in the
 * order they were sent. Ratis numbers them (a sliding window: sequence numbers from 1, the first of
 * a window flagged) and leaves keeping that order to the transport; over gRPC one stream per client
 * does. Over HTTP each request is its own exchange, and concurrent exchanges may overtake each
 * other, so the receiver puts them back in order: a request is submitted once every earlier one of
 * its window was, and waits otherwise. Replies need no ordering: the client's window reorders them.
 *
 * <p>Rules per stream (a client's window for one group, to the leader or to this server):
 *
 * <ul>
 *   <li>a request flagged first starts the stream at its number; requests still waiting below it
 *       belong to a window the client gave up and fail with {@link AlreadyClosedException};
 *   <li>the next expected number is submitted at once, followed by whatever waited behind it;
 *   <li>a number already passed is a retry and is submitted at once: Ratis's retry cache answers a
 *       repeated write with its first result;
 *   <li>a number ahead of the next expected waits, at most {@value #MAX_WAITING_PER_STREAM} per
 *       stream and at most {@code maxWait}; then it fails as retryable, and the client's retry
 *       restarts its window with a first request.
 * </ul>
 *
 * At most {@value #MAX_STREAMS} streams are kept; one idle for {@link #IDLE_STREAM_EXPIRY} is
 * forgotten (its client's next request simply waits until its retry restarts the window).
 *
 * <p>Thread-safety: streams live in a concurrent map; each stream's state is guarded by its own
 * monitor, which is held while requests are submitted so that submission order is the stream's
 * order. {@link #expire()} runs on the transport's timer thread; a stream it removes is marked
 * retired under the monitor, and a request that raced with it looks the stream up again.
 */
final class OrderedClientRequests {

    static final int MAX_STREAMS = 10_000;
    static final int MAX_WAITING_PER_STREAM = 1024;
    static final Duration IDLE_STREAM_EXPIRY = Duration.ofMinutes(10);

    /** Hands a request to Ratis. */
    @FunctionalInterface
    interface Submitter {
        CompletableFuture<RaftClientReply> submit(RaftClientRequest request) throws IOException;
    }

    private record Key(ClientId client, RaftGroupId group, boolean toLeader) {}

    private final ConcurrentHashMap<Key, Stream> streams = new ConcurrentHashMap<>();
    private final long maxWaitNanos;
    private final LongSupplier nanoTime;

    /**
     * @param maxWait how long a request may wait for the requests before it
     * @param nanoTime monotonic time source ({@code System::nanoTime} outside tests)
     */
    OrderedClientRequests(Duration maxWait, LongSupplier nanoTime) {
        this.maxWaitNanos = maxWait.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Submits {@code request} when its turn comes; the reply is Ratis's, or the reason it never got
     * a turn.
     */
    CompletableFuture<RaftClientReply> submit(RaftClientRequest request, Submitter submitter) {
        SlidingWindowEntry entry = request.getSlidingWindowEntry();
        if (entry.getSeqNum() == 0) {
            // Not part of a window: nothing to order it against.
            return submitNow(submitter, request);
        }
        Key key = new Key(request.getClientId(), request.getRaftGroupId(), request.isToLeader());
        while (true) {
            Stream stream = streams.get(key);
            if (stream == null) {
                if (streams.size() >= MAX_STREAMS) {
                    return CompletableFuture.failedFuture(
                            new ResourceUnavailableException(
                                    "too many clients with ordered requests ("
                                            + MAX_STREAMS
                                            + "); retry later"));
                }
                stream = streams.computeIfAbsent(key, k -> new Stream(k.client()));
            }
            CompletableFuture<RaftClientReply> reply =
                    stream.accept(request, entry, submitter, nanoTime.getAsLong());
            if (reply != null) {
                return reply;
            }
        }
    }

    /**
     * Fails requests that waited longer than allowed and forgets idle streams; call periodically.
     */
    void expire() {
        long now = nanoTime.getAsLong();
        streams.forEach(
                (key, stream) -> {
                    if (stream.expire(now, maxWaitNanos, IDLE_STREAM_EXPIRY.toNanos())) {
                        streams.remove(key, stream);
                    }
                });
    }

    int streamCount() {
        return streams.size();
    }

    private static CompletableFuture<RaftClientReply> submitNow(
            Submitter submitter, RaftClientRequest request) {
        try {
            return submitter.submit(request);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A request that arrived before its turn. */
    private record Waiting(
            RaftClientRequest request,
            Submitter submitter,
            CompletableFuture<RaftClientReply> reply,
            long arrivedNanos) {

        void submit() {
            submitNow(submitter, request)
                    .whenComplete(
                            (r, e) -> {
                                if (e != null) {
                                    reply.completeExceptionally(e);
                                } else {
                                    reply.complete(r);
                                }
                            });
        }
    }

    /** One client's window, guarded by its monitor. */
    private static final class Stream {
        private final ClientId client;
        private final TreeMap<Long, List<Waiting>> waiting = new TreeMap<>();
        private int waitingCount;

        /** The sequence number to submit next; -1 until the stream has seen a first request. */
        private long next = -1;

        private long lastActiveNanos;
        private boolean retired;

        Stream(ClientId client) {
            this.client = client;
        }

        /** The request's reply future, or null when this stream was retired meanwhile. */
        synchronized CompletableFuture<RaftClientReply> accept(
                RaftClientRequest request,
                SlidingWindowEntry entry,
                Submitter submitter,
                long now) {
            if (retired) {
                return null;
            }
            lastActiveNanos = now;
            long seq = entry.getSeqNum();
            if (entry.getIsFirst()) {
                failWaitingBelow(seq);
                next = seq;
            }
            if (next >= 0 && seq < next) {
                return submitNow(submitter, request);
            }
            if (seq != next) {
                if (waitingCount >= MAX_WAITING_PER_STREAM) {
                    return CompletableFuture.failedFuture(
                            new ResourceUnavailableException(
                                    client
                                            + " has "
                                            + waitingCount
                                            + " requests waiting for earlier ones; retry later"));
                }
                Waiting w = new Waiting(request, submitter, new CompletableFuture<>(), now);
                waiting.computeIfAbsent(seq, k -> new ArrayList<>(1)).add(w);
                waitingCount++;
                return w.reply();
            }
            CompletableFuture<RaftClientReply> reply = submitNow(submitter, request);
            next++;
            submitWaitingInTurn();
            return reply;
        }

        /** Whether the stream is idle and retired; fails waits that are over. */
        synchronized boolean expire(long now, long maxWaitNanos, long idleNanos) {
            for (Iterator<List<Waiting>> lists = waiting.values().iterator(); lists.hasNext(); ) {
                List<Waiting> list = lists.next();
                list.removeIf(
                        w -> {
                            boolean over = now - w.arrivedNanos() >= maxWaitNanos;
                            if (over) {
                                waitingCount--;
                                w.reply()
                                        .completeExceptionally(
                                                new TimeoutIOException(
                                                        client
                                                                + " request #"
                                                                + w.request().getCallId()
                                                                + " waited too long for the requests before it"));
                            }
                            return over;
                        });
                if (list.isEmpty()) {
                    lists.remove();
                }
            }
            retired = waiting.isEmpty() && now - lastActiveNanos >= idleNanos;
            return retired;
        }

        /** Submits what waited for the numbers now passed; older numbers among them are retries. */
        private void submitWaitingInTurn() {
            for (Map.Entry<Long, List<Waiting>> head = waiting.firstEntry();
                    head != null && head.getKey() <= next;
                    head = waiting.firstEntry()) {
                waiting.pollFirstEntry();
                waitingCount -= head.getValue().size();
                head.getValue().forEach(Waiting::submit);
                if (head.getKey() == next) {
                    next++;
                }
            }
        }

        private void failWaitingBelow(long seq) {
            Map<Long, List<Waiting>> given = waiting.headMap(seq);
            for (List<Waiting> list : given.values()) {
                waitingCount -= list.size();
                for (Waiting w : list) {
                    String message =
                            client
                                    + " restarted its request window at #"
                                    + seq
                                    + "; request #"
                                    + w.request().getCallId()
                                    + " belongs to the old one";
                    w.reply().completeExceptionally(new AlreadyClosedException(message));
                }
            }
            given.clear();
        }
    }
}
