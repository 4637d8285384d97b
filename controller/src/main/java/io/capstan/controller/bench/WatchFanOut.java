package io.capstan.controller.bench;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.WatchCreateRequest;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.etcd.api.mvcc.Event;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Watchers of one key prefix, each on its own Watch stream, that measure how long each put took
 * from its send (the time {@link Operations#timestampedPuts} writes into the value) to its event's
 * arrival. Only events of puts sent and received inside the measured window count; each stream
 * receives every put, so one put is {@code watchers} events.
 *
 * <p>Threads: opened and closed by the command's thread. gRPC calls each stream's observer on one
 * thread at a time; the recorder and counters they share are safe for concurrent writers.
 */
final class WatchFanOut implements AutoCloseable {
    /** The kind failures of a watch stream count as, before the status code. */
    static final String STREAM_ERROR = "WATCH_";

    private final List<Watcher> watchers = new ArrayList<>();
    private final Recorder delivery = new Recorder(ClosedLoop.DIGITS);
    private final LongAdder events = new LongAdder();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final LongSupplier clock;

    /** Null until {@link #measure}: events before count nowhere. */
    private volatile ClosedLoop.Window window;

    private volatile boolean closing;

    private WatchFanOut(LongSupplier clock) {
        this.clock = clock;
    }

    /**
     * Opens {@code count} watchers of every key under {@code prefix}, spread over the connections,
     * and waits until every stream has confirmed its watch.
     *
     * @throws Connections.SetupException when a watch was not created within {@code timeout}; the
     *     streams opened are closed again
     */
    static WatchFanOut open(
            Connections connections, int count, String prefix, LongSupplier clock, Duration timeout)
            throws Connections.SetupException, InterruptedException {
        WatchFanOut fanOut = new WatchFanOut(clock);
        CountDownLatch created = new CountDownLatch(count);
        WatchRequest create =
                WatchRequest.newBuilder()
                        .setCreateRequest(
                                WatchCreateRequest.newBuilder()
                                        .setKey(Operations.key(prefix))
                                        .setRangeEnd(prefixEnd(prefix)))
                        .build();
        for (int i = 0; i < count; i++) {
            Watcher watcher = fanOut.new Watcher(created);
            watcher.requests =
                    (ClientCallStreamObserver<WatchRequest>)
                            WatchGrpc.newStub(connections.channel(i)).watch(watcher);
            fanOut.watchers.add(watcher);
            watcher.requests.onNext(create);
        }
        if (!created.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            fanOut.close();
            throw new Connections.SetupException(
                    created.getCount()
                            + " of "
                            + count
                            + " watches were not created within "
                            + timeout
                            + "; stream errors: "
                            + fanOut.errors(),
                    null);
        }
        return fanOut;
    }

    /** Counts, from now on, the events of puts sent and received in {@code measured}. */
    void measure(ClosedLoop.Window measured) {
        window = measured;
    }

    /** From a put's send to its event's arrival, every watcher's. */
    Histogram delivery() {
        return delivery.getIntervalHistogram();
    }

    /** Events received in the window, over all watchers. */
    long events() {
        return events.sum();
    }

    /** Streams that failed, by {@value #STREAM_ERROR} and their status code. */
    Map<String, Long> errors() {
        Map<String, Long> counted = new TreeMap<>();
        errors.forEach((kind, n) -> counted.put(kind, n.sum()));
        return counted;
    }

    @Override
    public void close() {
        closing = true;
        for (Watcher watcher : watchers) {
            watcher.requests.cancel("benchmark run over", null);
        }
    }

    /**
     * The key that ends the range of every key starting with {@code prefix} (a prefix without 0xff
     * bytes).
     */
    static ByteString prefixEnd(String prefix) {
        byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
        end[end.length - 1]++;
        return ByteString.copyFrom(end);
    }

    private final class Watcher implements StreamObserver<WatchResponse> {
        private final CountDownLatch created;

        /** Set before the stream's first message is sent; read by close. */
        private ClientCallStreamObserver<WatchRequest> requests;

        Watcher(CountDownLatch created) {
            this.created = created;
        }

        @Override
        public void onNext(WatchResponse response) {
            if (response.getCreated()) {
                created.countDown();
            }
            long arrival = clock.getAsLong();
            ClosedLoop.Window measured = window;
            if (measured == null || !measured.contains(arrival)) {
                return;
            }
            for (Event event : response.getEventsList()) {
                long sent = Operations.sentAt(event.getKv().getValue());
                if (event.getType() == Event.EventType.PUT && measured.contains(sent)) {
                    delivery.recordValue(Math.max(0, arrival - sent));
                    events.increment();
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            if (!closing) {
                errors.computeIfAbsent(
                                STREAM_ERROR + Status.fromThrowable(t).getCode(),
                                k -> new LongAdder())
                        .increment();
            }
        }

        @Override
        public void onCompleted() {
            if (!closing) {
                errors.computeIfAbsent(STREAM_ERROR + "CLOSED", k -> new LongAdder()).increment();
            }
        }
    }
}
