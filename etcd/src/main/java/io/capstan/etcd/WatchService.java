package io.capstan.etcd;

import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Watch gRPC service: each call is one {@link WatchStream}. Immutable; gRPC calls it on the
 * API executor.
 *
 * <p>Inbound flow control is manual: the next request is read only when the call can take a
 * response without buffering ({@code isReady}), otherwise once it signals ready, so a client that
 * stops reading stops being read and its control responses stay bounded. A client that half-closes
 * keeps its watches, as in etcd; cancelling the call ends them. A member that stops fails the call
 * with UNAVAILABLE ({@link OpenStreams}).
 */
final class WatchService extends WatchGrpc.WatchImplBase {

    private final WatchStream.Watches watches;
    private final RaftCalls raft;
    private final int maxWatchesPerStream;
    private final OpenStreams streams;

    WatchService(
            WatchStream.Watches watches,
            RaftCalls raft,
            int maxWatchesPerStream,
            OpenStreams streams) {
        this.watches = watches;
        this.raft = raft;
        this.maxWatchesPerStream = maxWatchesPerStream;
        this.streams = streams;
    }

    @Override
    public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
        ServerCallStreamObserver<WatchResponse> call =
                (ServerCallStreamObserver<WatchResponse>) responses;
        WatchStream stream =
                WatchStream.open(
                        watches,
                        raft,
                        new WatchStream.Outbound() {
                            @Override
                            public boolean isReady() {
                                return call.isReady();
                            }

                            @Override
                            public void send(WatchResponse response) {
                                call.onNext(response);
                            }

                            @Override
                            public void fail(EtcdError error) {
                                call.onError(error.toStatusException());
                            }
                        },
                        maxWatchesPerStream,
                        streams);
        Requests requests = new Requests(call, stream);
        call.disableAutoRequest();
        call.setOnCancelHandler(stream::close);
        call.setOnReadyHandler(requests::ready);
        call.request(1);
        return requests;
    }

    /**
     * The requests of one call. gRPC calls it serially, but the ready handler may run beside a
     * request, so the one field is guarded by this object's lock.
     */
    private static final class Requests implements StreamObserver<WatchRequest> {
        private final ServerCallStreamObserver<WatchResponse> call;
        private final WatchStream stream;

        /** A request is owed once the call is ready again. */
        private boolean owed;

        Requests(ServerCallStreamObserver<WatchResponse> call, WatchStream stream) {
            this.call = call;
            this.stream = stream;
        }

        @Override
        public void onNext(WatchRequest request) {
            switch (request.getRequestUnionCase()) {
                case CREATE_REQUEST -> stream.create(request.getCreateRequest());
                case CANCEL_REQUEST -> stream.cancel(request.getCancelRequest().getWatchId());
                case PROGRESS_REQUEST -> stream.requestProgress();
                // etcd ignores a request with nothing in it.
                case REQUESTUNION_NOT_SET -> {}
            }
            synchronized (this) {
                if (call.isReady()) {
                    call.request(1);
                } else {
                    owed = true;
                }
            }
        }

        @Override
        public void onError(Throwable error) {
            stream.close();
        }

        @Override
        public void onCompleted() {
            // The client sends nothing more; its watches go on until it cancels the call.
        }

        void ready() {
            stream.ready();
            synchronized (this) {
                if (owed) {
                    owed = false;
                    call.request(1);
                }
            }
        }
    }
}
