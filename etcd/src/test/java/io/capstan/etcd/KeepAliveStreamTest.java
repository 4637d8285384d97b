package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A keep-alive stream's flow control and states, driven step by step: renewals complete when the
 * test says so, and the response side records what the stream asked of the transport.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KeepAliveStreamTest {

    private final Transport transport = new Transport();
    private final Map<Long, CompletableFuture<LeaseKeepAliveResponse>> renewals = new HashMap<>();
    private final OpenStreams streams = new OpenStreams();
    private final KeepAliveStream stream =
            KeepAliveStream.open(
                    transport,
                    request -> {
                        CompletableFuture<LeaseKeepAliveResponse> renewal =
                                new CompletableFuture<>();
                        renewals.put(request.getID(), renewal);
                        return renewal;
                    },
                    streams);

    @Test
    void readsAWindowThenOneMoreForEachAnswerTheClientCanTake() {
        assertTrue(transport.manualFlow);
        assertEquals(List.of(KeepAliveStream.MAX_IN_FLIGHT), transport.requested);

        stream.onNext(request(1));
        stream.onNext(request(2));
        answer(2);
        assertEquals(List.of(2L), transport.sentIds());
        assertEquals(List.of(KeepAliveStream.MAX_IN_FLIGHT, 1), transport.requested);

        transport.ready = false;
        answer(1);
        assertEquals(List.of(2L, 1L), transport.sentIds());
        assertEquals(
                2, transport.requested.size(), "a client that is not reading is not read from");

        transport.ready = true;
        transport.onReady.run();
        assertEquals(List.of(KeepAliveStream.MAX_IN_FLIGHT, 1, 1), transport.requested);
    }

    @Test
    void halfCloseCompletesOnceRenewalsInFlightAnswered() {
        stream.onNext(request(1));
        stream.onCompleted();
        assertEquals(0, transport.completed);

        answer(1);
        assertEquals(List.of(1L), transport.sentIds());
        assertEquals(1, transport.completed);
    }

    @Test
    void aFailedRenewalEndsTheStreamWithEtcdsStatus() {
        stream.onNext(request(1));
        stream.onNext(request(2));
        renewals.get(1L).completeExceptionally(EtcdErrors.NO_LEADER.toException());
        answer(2);

        Status status = Status.fromThrowable(transport.error);
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertEquals("etcdserver: no leader", status.getDescription());
        assertTrue(transport.sent.isEmpty(), "nothing is sent after the stream failed");
        stream.onNext(request(3));
        assertNull(renewals.get(3L), "a finished stream renews nothing");
    }

    @Test
    void aCancelledStreamDropsLateAnswers() {
        stream.onNext(request(1));
        transport.onCancel.run();
        answer(1);
        assertTrue(transport.sent.isEmpty());
        assertEquals(0, transport.completed);
        assertEquals(0, streams.count(), "a finished stream is no longer open");
    }

    @Test
    void aStoppingMemberFailsTheStreamWithServerStopped() {
        assertEquals(1, streams.count());
        stream.onNext(request(1));
        streams.stop();

        Status status = Status.fromThrowable(transport.error);
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertEquals("etcdserver: server stopped", status.getDescription());
        answer(1);
        assertTrue(transport.sent.isEmpty(), "nothing is sent after the stream ended");
        assertEquals(0, streams.count());

        transport.error = null;
        KeepAliveStream.open(transport, request -> new CompletableFuture<>(), streams);
        assertEquals(
                Status.Code.UNAVAILABLE,
                Status.fromThrowable(transport.error).getCode(),
                "a stream opened after the stop ends at once");
        assertEquals(0, streams.count());
    }

    private void answer(long id) {
        renewals.get(id).complete(LeaseKeepAliveResponse.newBuilder().setID(id).setTTL(10).build());
    }

    private static LeaseKeepAliveRequest request(long id) {
        return LeaseKeepAliveRequest.newBuilder().setID(id).build();
    }

    /** Records what the stream does to its call; single-threaded like the test. */
    private static final class Transport extends ServerCallStreamObserver<LeaseKeepAliveResponse> {
        final List<Integer> requested = new ArrayList<>();
        final List<LeaseKeepAliveResponse> sent = new ArrayList<>();
        boolean ready = true;
        boolean manualFlow;
        int completed;
        Throwable error;
        Runnable onReady;
        Runnable onCancel;

        List<Long> sentIds() {
            return sent.stream().map(LeaseKeepAliveResponse::getID).toList();
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
            onCancel = handler;
        }

        @Override
        public void setCompression(String compression) {}

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public void setOnReadyHandler(Runnable handler) {
            onReady = handler;
        }

        @Override
        public void disableAutoInboundFlowControl() {}

        @Override
        public void disableAutoRequest() {
            manualFlow = true;
        }

        @Override
        public void request(int count) {
            requested.add(count);
        }

        @Override
        public void setMessageCompression(boolean enable) {}

        @Override
        public void onNext(LeaseKeepAliveResponse value) {
            sent.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
            completed++;
        }
    }
}
