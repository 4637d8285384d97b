package io.capstan.etcd;

import io.capstan.etcd.api.election.CampaignRequest;
import io.capstan.etcd.api.election.CampaignResponse;
import io.capstan.etcd.api.election.ElectionGrpc;
import io.capstan.etcd.api.election.LeaderRequest;
import io.capstan.etcd.api.election.LeaderResponse;
import io.capstan.etcd.api.election.ProclaimRequest;
import io.capstan.etcd.api.election.ProclaimResponse;
import io.capstan.etcd.api.election.ResignRequest;
import io.capstan.etcd.api.election.ResignResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Election gRPC service: unary calls handed to {@link ElectionOperations}, each Observe call
 * to a {@link LeaderObserver} of its own. A Campaign whose call is cancelled (by the client, its
 * deadline or its connection closing) cancels its wait, which leaves nothing behind. Immutable;
 * gRPC calls it on the API executor.
 */
final class ElectionService extends ElectionGrpc.ElectionImplBase {

    private final ElectionOperations elections;

    ElectionService(ElectionOperations elections) {
        this.elections = elections;
    }

    @Override
    public void campaign(CampaignRequest request, StreamObserver<CampaignResponse> responses) {
        CompletableFuture<CampaignResponse> reply = elections.campaign(request);
        ((ServerCallStreamObserver<CampaignResponse>) responses)
                .setOnCancelHandler(() -> reply.cancel(false));
        Replies.send(reply, responses);
    }

    @Override
    public void proclaim(ProclaimRequest request, StreamObserver<ProclaimResponse> responses) {
        Replies.send(elections.proclaim(request), responses);
    }

    @Override
    public void leader(LeaderRequest request, StreamObserver<LeaderResponse> responses) {
        Replies.send(elections.leader(request), responses);
    }

    @Override
    public void observe(LeaderRequest request, StreamObserver<LeaderResponse> responses) {
        ServerCallStreamObserver<LeaderResponse> call =
                (ServerCallStreamObserver<LeaderResponse>) responses;
        LeaderObserver observer =
                elections.observer(
                        request,
                        new LeaderObserver.Outbound() {
                            @Override
                            public boolean isReady() {
                                return call.isReady();
                            }

                            @Override
                            public void send(LeaderResponse response) {
                                call.onNext(response);
                            }

                            @Override
                            public void fail(EtcdError error) {
                                call.onError(error.toStatusException());
                            }
                        });
        call.setOnCancelHandler(observer::close);
        call.setOnReadyHandler(observer::ready);
        observer.start();
    }

    @Override
    public void resign(ResignRequest request, StreamObserver<ResignResponse> responses) {
        Replies.send(elections.resign(request), responses);
    }
}
