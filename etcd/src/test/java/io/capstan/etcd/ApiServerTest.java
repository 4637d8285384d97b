package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gRPC listener on its own: binding, its message limit, and a stop that is graceful but
 * bounded.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiServerTest {

    private static final ApiLimits LIMITS = new ApiLimits(1024, 8, 8);

    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final HeldRanges service = new HeldRanges();
    private final HeldWatches watches = new HeldWatches();
    private ManagedChannel channel;

    @AfterEach
    void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
        executor.shutdownNow();
    }

    @Test
    void aTakenPortFailsTheStartAndNamesIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            ApiServer server = server(taken.getLocalPort(), Duration.ofSeconds(1));
            ExecutionException failed =
                    assertThrows(ExecutionException.class, () -> server.start().get());
            IllegalStateException cause =
                    assertInstanceOf(IllegalStateException.class, failed.getCause());
            assertTrue(
                    cause.getMessage().contains("127.0.0.1:" + taken.getLocalPort()),
                    cause.getMessage());
            assertThrows(IllegalStateException.class, server::address);
            server.stop();
        }
    }

    @Test
    void ephemeralPortAndEtcdsRoomAboveTheRequestLimit() throws Exception {
        ApiServer server = server(0, Duration.ofSeconds(1));
        InetSocketAddress bound = server.start().get();
        assertTrue(bound.getPort() > 0);
        assertEquals(bound, server.address());
        assertThrows(IllegalStateException.class, server::start);
        KVGrpc.KVBlockingStub kv =
                KVGrpc.newBlockingStub(connect(bound)).withDeadlineAfter(20, TimeUnit.SECONDS);

        // Over the request limit but within the overhead: it reaches the service, which refuses it
        // as etcd does.
        kv.put(put(LIMITS.maxRequestBytes() * 4));
        StatusRuntimeException tooBig =
                assertThrows(
                        StatusRuntimeException.class,
                        () ->
                                kv.put(
                                        put(
                                                LIMITS.maxRequestBytes()
                                                        + ApiLimits.GRPC_OVERHEAD_BYTES
                                                        + 1)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, tooBig.getStatus().getCode());
        server.stop();
        server.stop();
    }

    @Test
    void stopLetsCallsInFlightFinish() throws Exception {
        ApiServer server = server(0, Duration.ofSeconds(20));
        KVGrpc.KVFutureStub kv = KVGrpc.newFutureStub(connect(server.start().get()));
        var inFlight = kv.range(RangeRequest.getDefaultInstance());
        assertTrue(service.arrived.await(20, TimeUnit.SECONDS));

        CompletableFuture<Void> stopped = CompletableFuture.runAsync(server::stop);
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(
                        () -> {
                            try {
                                kv.range(RangeRequest.getDefaultInstance())
                                        .get(20, TimeUnit.SECONDS);
                                return false;
                            } catch (ExecutionException refused) {
                                return Status.fromThrowable(refused.getCause()).getCode()
                                        == Status.Code.UNAVAILABLE;
                            }
                        });
        assertFalse(stopped.isDone(), "stop waits for the call in flight");

        service.release.complete(RangeResponse.newBuilder().setCount(7).build());
        assertEquals(7, inFlight.get(20, TimeUnit.SECONDS).getCount());
        stopped.get(20, TimeUnit.SECONDS);
    }

    @Test
    void stopCancelsWhatOutlastsItsTimeout() throws Exception {
        ApiServer server = server(0, Duration.ofMillis(300));
        var stuck =
                KVGrpc.newFutureStub(connect(server.start().get()))
                        .range(RangeRequest.getDefaultInstance());
        assertTrue(service.arrived.await(20, TimeUnit.SECONDS));

        server.stop();

        ExecutionException cut =
                assertThrows(ExecutionException.class, () -> stuck.get(20, TimeUnit.SECONDS));
        Status.Code code = Status.fromThrowable(cut.getCause()).getCode();
        // The stream's reset or the connection's close, whichever reaches the client first.
        assertTrue(
                code == Status.Code.CANCELLED || code == Status.Code.UNAVAILABLE, code.toString());
    }

    @Test
    void stopClosesTheListenerThenEndsStreamsWithUnavailable() throws Exception {
        ApiServer server = server(0, Duration.ofSeconds(30));
        InetSocketAddress bound = server.start().get();
        watches.address = bound;
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        WatchGrpc.newStub(connect(bound))
                .watch(
                        new StreamObserver<>() {
                            @Override
                            public void onNext(WatchResponse response) {}

                            @Override
                            public void onError(Throwable t) {
                                ended.complete(t);
                            }

                            @Override
                            public void onCompleted() {
                                ended.complete(null);
                            }
                        });
        assertTrue(watches.opened.await(20, TimeUnit.SECONDS));

        CompletableFuture<Void> stopped = CompletableFuture.runAsync(server::stop);
        Status status = Status.fromThrowable(ended.get(20, TimeUnit.SECONDS));
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertEquals("etcdserver: server stopped", status.getDescription());
        assertEquals(
                Boolean.TRUE,
                watches.listenerClosedAtEnd,
                "streams end after the listener stopped taking calls");
        // The stream ended, so the stop does not wait out its 30 s for it.
        stopped.get(20, TimeUnit.SECONDS);
    }

    private ApiServer server(int port, Duration stopTimeout) {
        return new ApiServer(
                "127.0.0.1",
                port,
                LIMITS,
                List.of(service, watches),
                watches::end,
                executor,
                stopTimeout);
    }

    private ManagedChannel connect(InetSocketAddress address) {
        channel =
                NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
                        .usePlaintext()
                        .maxInboundMessageSize(4 << 20)
                        .build();
        return channel;
    }

    private static PutRequest put(int valueBytes) {
        return PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("k"))
                .setValue(ByteString.copyFrom(new byte[valueBytes]))
                .build();
    }

    /**
     * Holds every watch stream open until {@link #end}, which ends them as a stopping member does
     * and records whether the listener still took connections then.
     */
    private static final class HeldWatches extends WatchGrpc.WatchImplBase {
        final CountDownLatch opened = new CountDownLatch(1);
        final List<StreamObserver<WatchResponse>> open = new CopyOnWriteArrayList<>();
        volatile InetSocketAddress address;
        volatile Boolean listenerClosedAtEnd;

        @Override
        public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
            open.add(responses);
            opened.countDown();
            return new StreamObserver<>() {
                @Override
                public void onNext(WatchRequest request) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            };
        }

        void end() {
            if (address != null) {
                try (Socket probe = new Socket()) {
                    probe.connect(address, 2000);
                    listenerClosedAtEnd = false;
                } catch (IOException refused) {
                    listenerClosedAtEnd = true;
                }
            }
            open.forEach(responses -> responses.onError(EtcdErrors.STOPPED.toStatusException()));
        }
    }

    /** Answers puts at once; holds every range until released. */
    private static final class HeldRanges extends KVGrpc.KVImplBase {
        final CountDownLatch arrived = new CountDownLatch(1);
        final CompletableFuture<RangeResponse> release = new CompletableFuture<>();

        @Override
        public void put(PutRequest request, StreamObserver<PutResponse> responses) {
            responses.onNext(PutResponse.getDefaultInstance());
            responses.onCompleted();
        }

        @Override
        public void range(RangeRequest request, StreamObserver<RangeResponse> responses) {
            arrived.countDown();
            release.thenAccept(
                    response -> {
                        responses.onNext(response);
                        responses.onCompleted();
                    });
        }
    }
}
