package io.capstan.faults;

import io.capstan.etcd.api.WatchCreateRequest;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.etcd.api.mvcc.Event.EventType;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.capstan.faults.history.Event;
import io.capstan.faults.history.HistoryFile;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A watch of a key prefix from a revision on, recording every event it gets. When its stream ends
 * or fails it opens a new one on the next member, from the revision after the last one it got, as
 * etcd clients do; events of a stream it has left are ignored. Events past {@code through} (when
 * set) are not recorded.
 *
 * <p>Threads: gRPC's threads deliver responses and the scheduler reopens; both hold this object's
 * lock, which also orders the recording of one watcher's lines.
 */
final class RecordingWatch {
    private static final long REOPEN_DELAY_MILLIS = 300;

    private final String process;
    private final String prefix;
    private final Cluster cluster;
    private final HistoryFile history;
    private final ScheduledExecutorService scheduler;
    private final long through;
    private int member;
    private int generation;
    private ClientCallStreamObserver<WatchRequest> stream;
    private long last;
    private boolean finished;

    /** The key of each event recorded, by revision. */
    private final TreeMap<Long, List<String>> recorded = new TreeMap<>();

    /**
     * @param from the first revision to watch
     * @param through the last revision to record ({@link Long#MAX_VALUE}: all)
     */
    RecordingWatch(
            String process,
            String prefix,
            Cluster cluster,
            HistoryFile history,
            ScheduledExecutorService scheduler,
            int member,
            long from,
            long through) {
        this.process = process;
        this.prefix = prefix;
        this.cluster = cluster;
        this.history = history;
        this.scheduler = scheduler;
        this.member = member;
        this.last = from - 1;
        this.through = through;
    }

    synchronized void open() {
        if (finished) {
            return;
        }
        int mine = ++generation;
        long from = last + 1;
        history.record(Event.of(process, Event.OPEN, "watch").range(prefix).revision(from));
        cluster.watches(cluster.members().get(member))
                .watch(
                        new ClientResponseObserver<WatchRequest, WatchResponse>() {
                            @Override
                            public void beforeStart(
                                    ClientCallStreamObserver<WatchRequest> requests) {
                                synchronized (RecordingWatch.this) {
                                    stream = requests;
                                }
                            }

                            @Override
                            public void onNext(WatchResponse r) {
                                delivered(mine, r);
                            }

                            @Override
                            public void onError(Throwable t) {
                                ended(mine, Calls.describe(t));
                            }

                            @Override
                            public void onCompleted() {
                                ended(mine, "stream ended");
                            }
                        });
        stream.onNext(
                WatchRequest.newBuilder()
                        .setCreateRequest(
                                WatchCreateRequest.newBuilder()
                                        .setKey(Calls.rangeStart(prefix))
                                        .setRangeEnd(Calls.rangeEnd(prefix))
                                        .setStartRevision(from))
                        .build());
    }

    private synchronized void delivered(int of, WatchResponse r) {
        if (of != generation || finished) {
            return;
        }
        long newest = last;
        for (io.capstan.etcd.api.mvcc.Event e : r.getEventsList()) {
            KeyValue kv = e.getKv();
            if (kv.getModRevision() > through) {
                continue;
            }
            boolean put = e.getType() == EventType.PUT;
            String key = Calls.string(kv.getKey());
            Event.Builder line =
                    Event.of(process, Event.EVENT, "watch")
                            .key(key)
                            .eventType(put ? "put" : "delete")
                            .revision(kv.getModRevision());
            if (put) {
                line.value(Calls.string(kv.getValue())).lease(kv.getLease());
            }
            history.record(line);
            recorded.computeIfAbsent(kv.getModRevision(), rev -> new ArrayList<>()).add(key);
            newest = Math.max(newest, kv.getModRevision());
        }
        last = newest;
        if (r.getCanceled()) {
            ended(
                    of,
                    "canceled: "
                            + r.getCancelReason()
                            + " (compacted at "
                            + r.getCompactRevision()
                            + ")");
        }
        notifyAll();
    }

    private synchronized void ended(int of, String why) {
        if (of != generation || finished) {
            return;
        }
        generation++;
        history.record(Event.of(process, Event.CLOSE, "watch").error(why));
        member = (member + 1) % cluster.members().size();
        scheduler.schedule(this::open, REOPEN_DELAY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The key prefix it watches. */
    String prefix() {
        return prefix;
    }

    /** The last revision recorded with an event of a key starting with {@code prefix}, or 0. */
    synchronized long lastRevisionUnder(String prefix) {
        for (Map.Entry<Long, List<String>> e : recorded.descendingMap().entrySet()) {
            if (e.getValue().stream().anyMatch(key -> key.startsWith(prefix))) {
                return e.getKey();
            }
        }
        return 0;
    }

    /**
     * Waits until the watch has recorded {@code head}; when it has not within half of {@code
     * timeout}, moves it to another member once. Then ends it and records where it stopped: {@code
     * revision} the last one recorded, {@code error} null when it reached {@code head}.
     *
     * @return whether it reached {@code head}
     */
    boolean finish(long head, Duration timeout) throws InterruptedException {
        long half = System.nanoTime() + timeout.toNanos() / 2;
        boolean reached = awaitRevision(head, half);
        if (!reached) {
            synchronized (this) {
                if (stream != null) {
                    stream.cancel("moving a stalled watch", null);
                }
                ended(generation, "stalled before revision " + head + ": moved");
            }
            reached = awaitRevision(head, half + timeout.toNanos() / 2);
        }
        synchronized (this) {
            finished = true;
            generation++;
            if (stream != null) {
                stream.cancel("finished", null);
            }
            history.record(
                    Event.of(process, Event.CLOSE, "watch")
                            .revision(last)
                            .error(reached ? null : "stalled before revision " + head));
        }
        return reached;
    }

    /**
     * Ends the watch without recording where it stopped (when the run is cut short); safe to call
     * again.
     */
    synchronized void stop() {
        finished = true;
        generation++;
        if (stream != null) {
            stream.cancel("stopped", null);
        }
    }

    private synchronized boolean awaitRevision(long head, long deadline)
            throws InterruptedException {
        while (last < head) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
