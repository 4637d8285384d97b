package io.capstan.etcd;

import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One {@code LeaseKeepAlive} stream: every request renews one lease and gets one response, in the
 * order the renewals complete. A renewal of a lease that does not exist answers TTL 0; any other
 * failure ends the stream with etcd's status, as etcd does.
 *
 * <p><b>Limits.</b> Flow control is manual: at most {@link #MAX_IN_FLIGHT} renewals run at once,
 * and a new request is read only after a response was handed to a client that keeps up with reading
 * ({@code isReady}); otherwise the credit waits for the transport's ready signal, so a client that
 * stops reading stops being read.
 *
 * <p><b>States.</b> OPEN (reading and renewing), HALF_CLOSED (the client sent its last request; the
 * stream completes when the renewals in flight have answered), FINISHED (completed, failed,
 * cancelled by the client, or ended by a stopping member with UNAVAILABLE, see {@link OpenStreams};
 * late renewals are dropped). Every field and every call on the response observer is guarded by
 * this object's lock: gRPC delivers requests on its executor, renewals complete on the API
 * executor.
 */
final class KeepAliveStream implements StreamObserver<LeaseKeepAliveRequest>, OpenStreams.Stream {

    static final int MAX_IN_FLIGHT = 16;

    private enum State {
        OPEN,
        HALF_CLOSED,
        FINISHED
    }

    private final ServerCallStreamObserver<LeaseKeepAliveResponse> responses;
    private final Function<LeaseKeepAliveRequest, CompletableFuture<LeaseKeepAliveResponse>> renew;
    private final OpenStreams streams;
    private State state = State.OPEN;
    private int inFlight;

    /** Requests to read once the client catches up with its responses. */
    private int owed;

    private KeepAliveStream(
            ServerCallStreamObserver<LeaseKeepAliveResponse> responses,
            Function<LeaseKeepAliveRequest, CompletableFuture<LeaseKeepAliveResponse>> renew,
            OpenStreams streams) {
        this.responses = responses;
        this.renew = renew;
        this.streams = streams;
    }

    /**
     * Sets the stream up, open among {@code streams} until it finishes; call from the service
     * method, before it returns (gRPC's rule for these hooks).
     */
    static KeepAliveStream open(
            ServerCallStreamObserver<LeaseKeepAliveResponse> responses,
            Function<LeaseKeepAliveRequest, CompletableFuture<LeaseKeepAliveResponse>> renew,
            OpenStreams streams) {
        KeepAliveStream stream = new KeepAliveStream(responses, renew, streams);
        responses.disableAutoRequest();
        responses.setOnCancelHandler(stream::cancelled);
        responses.setOnReadyHandler(stream::ready);
        responses.request(MAX_IN_FLIGHT);
        streams.opened(stream);
        return stream;
    }

    @Override
    public void onNext(LeaseKeepAliveRequest request) {
        synchronized (this) {
            if (state != State.OPEN) {
                return;
            }
            inFlight++;
        }
        renew.apply(request).whenComplete(this::answered);
    }

    /** The client failed or cancelled; gRPC has closed the call already. */
    @Override
    public synchronized void onError(Throwable error) {
        finished();
    }

    /** The member stops: fails the call with {@code error}; renewals in flight are dropped. */
    @Override
    public synchronized void end(EtcdError error) {
        if (state != State.FINISHED) {
            finished();
            responses.onError(error.toStatusException());
        }
    }

    @Override
    public synchronized void onCompleted() {
        if (state != State.OPEN) {
            return;
        }
        state = State.HALF_CLOSED;
        completeIfDrained();
    }

    private synchronized void answered(LeaseKeepAliveResponse response, Throwable error) {
        if (state == State.FINISHED) {
            return;
        }
        inFlight--;
        if (error != null) {
            finished();
            responses.onError(EtcdErrors.of(error).toStatusException());
            return;
        }
        responses.onNext(response);
        if (state == State.HALF_CLOSED) {
            completeIfDrained();
        } else if (responses.isReady()) {
            responses.request(1);
        } else {
            owed++;
        }
    }

    private synchronized void ready() {
        if (state == State.OPEN && owed > 0) {
            responses.request(owed);
            owed = 0;
        }
    }

    private synchronized void cancelled() {
        finished();
    }

    private void completeIfDrained() {
        if (inFlight == 0) {
            finished();
            responses.onCompleted();
        }
    }

    private void finished() {
        state = State.FINISHED;
        streams.closed(this);
    }
}
