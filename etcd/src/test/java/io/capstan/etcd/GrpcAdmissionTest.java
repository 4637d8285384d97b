package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.etcd.api.lock.LockGrpc;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.LockResponse;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.capstan.web.AdmissionBudget;
import io.capstan.web.AdmissionSettings;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Admission of gRPC calls on a real listener, with services that hold every call until the test
 * answers it: refusal beyond the budget, a queued call that starts with its request once a permit
 * frees, and every path by which a permit or a place comes back (cancel and deadline while queued,
 * cancel while running, close); streams and waits have a budget of their own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcAdmissionTest {

    private static final ApiLimits LIMITS = new ApiLimits(1024, 8, 8);
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final AdmissionSettings NO_STREAMS =
            new AdmissionSettings(1, 0, Duration.ofSeconds(1));

    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final Held held = new Held();
    private GrpcAdmission admission;
    private ApiServer server;
    private ManagedChannel channel;

    @AfterEach
    void close() throws InterruptedException {
        held.answerAll();
        if (channel != null) {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (server != null) {
            admission.close();
            server.stop();
        }
        executor.shutdownNow();
    }

    private KVGrpc.KVFutureStub start(AdmissionSettings unary, AdmissionSettings streams)
            throws Exception {
        admission = new GrpcAdmission(unary, streams);
        server =
                new ApiServer(
                        "127.0.0.1",
                        0,
                        LIMITS,
                        List.of(held.kv, held.watch, held.lock),
                        () -> {},
                        List.of(admission),
                        Optional.empty(),
                        executor,
                        Duration.ofSeconds(1));
        InetSocketAddress bound = server.start().get();
        channel =
                NettyChannelBuilder.forAddress(bound.getHostString(), bound.getPort())
                        .usePlaintext()
                        .build();
        return KVGrpc.newFutureStub(channel);
    }

    private AdmissionBudget budget(String name) {
        return admission.budgets().stream()
                .filter(b -> b.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private void awaitGauges(String name, int inUse, int queued) {
        Awaitility.await()
                .atMost(SOON)
                .untilAsserted(
                        () -> {
                            assertEquals(inUse, budget(name).inUse(), name + " permits in use");
                            assertEquals(queued, budget(name).queued(), name + " calls queued");
                        });
    }

    private static RangeRequest range(String key) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build();
    }

    private static Status failure(ListenableFuture<?> call) {
        ExecutionException e =
                assertThrows(
                        ExecutionException.class,
                        () -> call.get(SOON.toSeconds(), TimeUnit.SECONDS));
        return Status.fromThrowable(e.getCause());
    }

    @Test
    void aCallBeyondTheQueueIsRefusedAtOnceAndAQueuedOneAtItsDeadline() throws Exception {
        KVGrpc.KVFutureStub kv =
                start(new AdmissionSettings(1, 1, Duration.ofMillis(300)), NO_STREAMS);
        ListenableFuture<RangeResponse> first = kv.range(range("a"));
        held.awaitEntered(1);
        long began = System.nanoTime();
        ListenableFuture<RangeResponse> queued = kv.range(range("b"));
        awaitGauges(GrpcAdmission.UNARY, 1, 1);
        Status full = failure(kv.range(range("c")));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getCode());
        assertEquals("etcdserver: too many requests", full.getDescription());

        Status late = failure(queued);
        assertTrue(
                System.nanoTime() - began >= Duration.ofMillis(300).toNanos(),
                "refused before its deadline");
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, late.getCode());
        assertEquals("etcdserver: too many requests", late.getDescription());
        assertEquals(1, budget(GrpcAdmission.UNARY).refused(AdmissionBudget.Refusal.QUEUE_FULL));
        assertEquals(1, budget(GrpcAdmission.UNARY).refused(AdmissionBudget.Refusal.TIMED_OUT));

        held.answerAll();
        assertEquals(
                "a",
                first.get(SOON.toSeconds(), TimeUnit.SECONDS).getKvs(0).getKey().toStringUtf8());
        awaitGauges(GrpcAdmission.UNARY, 0, 0);
    }

    @Test
    void aQueuedCallStartsWithItsRequestOnceAPermitFrees() throws Exception {
        KVGrpc.KVFutureStub kv =
                start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)), NO_STREAMS);
        ListenableFuture<RangeResponse> first = kv.range(range("a"));
        held.awaitEntered(1);
        ListenableFuture<RangeResponse> second = kv.range(range("b"));
        awaitGauges(GrpcAdmission.UNARY, 1, 1);
        held.answerAll();
        assertEquals(
                "a",
                first.get(SOON.toSeconds(), TimeUnit.SECONDS).getKvs(0).getKey().toStringUtf8());
        held.awaitEntered(1);
        held.answerAll();
        assertEquals(
                "b",
                second.get(SOON.toSeconds(), TimeUnit.SECONDS).getKvs(0).getKey().toStringUtf8());
        awaitGauges(GrpcAdmission.UNARY, 0, 0);
    }

    @Test
    void queuedCallsCancelledOrPastTheirDeadlineGiveTheirPlaceBackUnstarted() throws Exception {
        KVGrpc.KVFutureStub kv =
                start(new AdmissionSettings(1, 2, Duration.ofSeconds(30)), NO_STREAMS);
        kv.range(range("a"));
        held.awaitEntered(1);
        ListenableFuture<RangeResponse> cancelled = kv.range(range("b"));
        ListenableFuture<RangeResponse> late =
                kv.withDeadlineAfter(300, TimeUnit.MILLISECONDS).range(range("c"));
        awaitGauges(GrpcAdmission.UNARY, 1, 2);
        cancelled.cancel(true);
        assertEquals(Status.Code.DEADLINE_EXCEEDED, failure(late).getCode());
        awaitGauges(GrpcAdmission.UNARY, 1, 0);
        ListenableFuture<RangeResponse> next = kv.range(range("d"));
        awaitGauges(GrpcAdmission.UNARY, 1, 1);
        held.answerAll();
        held.awaitEntered(1);
        held.answerAll();
        assertEquals(
                "d",
                next.get(SOON.toSeconds(), TimeUnit.SECONDS).getKvs(0).getKey().toStringUtf8());
        assertEquals(
                List.of("a", "d"), List.copyOf(held.started), "the calls that left never started");
        awaitGauges(GrpcAdmission.UNARY, 0, 0);
    }

    @Test
    void aRunningCallCancelledByItsClientGivesItsPermitBack() throws Exception {
        KVGrpc.KVFutureStub kv =
                start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)), NO_STREAMS);
        ListenableFuture<RangeResponse> leaving = kv.range(range("a"));
        held.awaitEntered(1);
        ListenableFuture<RangeResponse> next = kv.range(range("b"));
        awaitGauges(GrpcAdmission.UNARY, 1, 1);
        leaving.cancel(true);
        // The first call's service never answers: only the cancel lets the second in.
        held.awaitEntered(1);
        awaitGauges(GrpcAdmission.UNARY, 1, 0);
        held.answerAll();
        next.get(SOON.toSeconds(), TimeUnit.SECONDS);
        awaitGauges(GrpcAdmission.UNARY, 0, 0);
    }

    @Test
    void streamsAndWaitsHaveABudgetOfTheirOwn() throws Exception {
        KVGrpc.KVFutureStub kv =
                start(
                        new AdmissionSettings(1, 0, Duration.ofSeconds(1)),
                        new AdmissionSettings(2, 0, Duration.ofSeconds(1)));
        Responses<WatchResponse> watching = new Responses<>();
        StreamObserver<WatchRequest> watch = WatchGrpc.newStub(channel).watch(watching);
        watch.onNext(WatchRequest.getDefaultInstance());
        ListenableFuture<LockResponse> lock =
                LockGrpc.newFutureStub(channel).lock(LockRequest.getDefaultInstance());
        held.awaitEntered(2);
        awaitGauges(GrpcAdmission.STREAMS, 2, 0);

        Responses<WatchResponse> refused = new Responses<>();
        WatchGrpc.newStub(channel).watch(refused).onNext(WatchRequest.getDefaultInstance());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.awaitStatus().getCode());
        ListenableFuture<RangeResponse> unary = kv.range(range("a"));
        held.awaitEntered(1);
        awaitGauges(GrpcAdmission.UNARY, 1, 0);

        watch.onError(Status.CANCELLED.asRuntimeException());
        lock.cancel(true);
        awaitGauges(GrpcAdmission.STREAMS, 0, 0);
        held.answerAll();
        unary.get(SOON.toSeconds(), TimeUnit.SECONDS);
        awaitGauges(GrpcAdmission.UNARY, 0, 0);
    }

    @Test
    void closingEndsWaitingCallsAsUnavailable() throws Exception {
        KVGrpc.KVFutureStub kv =
                start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)), NO_STREAMS);
        ListenableFuture<RangeResponse> running = kv.range(range("a"));
        held.awaitEntered(1);
        ListenableFuture<RangeResponse> waiting = kv.range(range("b"));
        awaitGauges(GrpcAdmission.UNARY, 1, 1);
        admission.close();
        Status stopped = failure(waiting);
        assertEquals(Status.Code.UNAVAILABLE, stopped.getCode());
        assertEquals("etcdserver: server stopped", stopped.getDescription());
        held.answerAll();
        running.get(SOON.toSeconds(), TimeUnit.SECONDS);
        awaitGauges(GrpcAdmission.UNARY, 0, 0);
    }

    /**
     * Services that hold every call: ranges until {@link #answerAll()}, watches and locks until
     * cancelled.
     */
    private static final class Held {
        private final Semaphore entered = new Semaphore(0);
        private final Queue<Runnable> answers = new ConcurrentLinkedQueue<>();

        /** The keys of the ranges that started, in order. */
        final Queue<String> started = new ConcurrentLinkedQueue<>();

        final KVGrpc.KVImplBase kv =
                new KVGrpc.KVImplBase() {
                    @Override
                    public void range(
                            RangeRequest request, StreamObserver<RangeResponse> responses) {
                        started.add(request.getKey().toStringUtf8());
                        answers.add(
                                () -> {
                                    responses.onNext(
                                            RangeResponse.newBuilder()
                                                    .addKvs(
                                                            KeyValue.newBuilder()
                                                                    .setKey(request.getKey()))
                                                    .build());
                                    responses.onCompleted();
                                });
                        entered.release();
                    }
                };

        final WatchGrpc.WatchImplBase watch =
                new WatchGrpc.WatchImplBase() {
                    @Override
                    public StreamObserver<WatchRequest> watch(
                            StreamObserver<WatchResponse> responses) {
                        entered.release();
                        return new Responses<>();
                    }
                };

        final LockGrpc.LockImplBase lock =
                new LockGrpc.LockImplBase() {
                    @Override
                    public void lock(LockRequest request, StreamObserver<LockResponse> responses) {
                        entered.release();
                    }
                };

        void awaitEntered(int calls) throws InterruptedException {
            assertTrue(
                    entered.tryAcquire(calls, SOON.toSeconds(), TimeUnit.SECONDS),
                    "calls reaching the service");
        }

        void answerAll() {
            for (Runnable answer; (answer = answers.poll()) != null; ) {
                answer.run();
            }
        }
    }

    /** A stream observer that keeps how its stream ended. */
    private static final class Responses<T> implements StreamObserver<T> {
        private final CompletableFuture<Status> ended = new CompletableFuture<>();

        @Override
        public void onNext(T value) {}

        @Override
        public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended.complete(Status.OK);
        }

        Status awaitStatus() throws Exception {
            return ended.get(SOON.toSeconds(), TimeUnit.SECONDS);
        }
    }
}
