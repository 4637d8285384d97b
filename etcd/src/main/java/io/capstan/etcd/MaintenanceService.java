package io.capstan.etcd;

import io.capstan.etcd.api.AlarmRequest;
import io.capstan.etcd.api.AlarmResponse;
import io.capstan.etcd.api.DefragmentRequest;
import io.capstan.etcd.api.DefragmentResponse;
import io.capstan.etcd.api.HashKVRequest;
import io.capstan.etcd.api.HashKVResponse;
import io.capstan.etcd.api.HashRequest;
import io.capstan.etcd.api.HashResponse;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.MoveLeaderRequest;
import io.capstan.etcd.api.MoveLeaderResponse;
import io.capstan.etcd.api.SnapshotRequest;
import io.capstan.etcd.api.SnapshotResponse;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.StatusResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;

/**
 * etcd's Maintenance gRPC service: each call handed to {@link StatusOperation} or {@link
 * MaintenanceOperations}; Snapshot streamed by a {@link SnapshotSender} that follows the call's
 * flow control (it reads the next chunk only when the call is ready). Downgrade keeps the generated
 * base's answer, UNIMPLEMENTED: Capstan has one version. Immutable; gRPC calls it on the API
 * executor.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {

    private final StatusOperation status;
    private final MaintenanceOperations maintenance;
    private final RaftCalls raft;
    private final Executor executor;
    private final OpenStreams streams;

    MaintenanceService(
            StatusOperation status,
            MaintenanceOperations maintenance,
            RaftCalls raft,
            Executor executor,
            OpenStreams streams) {
        this.status = status;
        this.maintenance = maintenance;
        this.raft = raft;
        this.executor = executor;
        this.streams = streams;
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> responses) {
        Replies.send(status.status(request), responses);
    }

    @Override
    public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> responses) {
        Replies.send(maintenance.alarm(request), responses);
    }

    @Override
    public void defragment(
            DefragmentRequest request, StreamObserver<DefragmentResponse> responses) {
        Replies.send(maintenance.defragment(request), responses);
    }

    @Override
    public void hash(HashRequest request, StreamObserver<HashResponse> responses) {
        Replies.send(maintenance.hash(request), responses);
    }

    @Override
    public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> responses) {
        Replies.send(maintenance.hashKv(request), responses);
    }

    @Override
    public void moveLeader(
            MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> responses) {
        Replies.send(maintenance.moveLeader(request), responses);
    }

    @Override
    public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> responses) {
        ServerCallStreamObserver<SnapshotResponse> call =
                (ServerCallStreamObserver<SnapshotResponse>) responses;
        SnapshotSender sender =
                new SnapshotSender(
                        raft,
                        new SnapshotSender.Outbound() {
                            @Override
                            public boolean isReady() {
                                return call.isReady();
                            }

                            @Override
                            public void send(SnapshotResponse response) {
                                call.onNext(response);
                            }

                            @Override
                            public void complete() {
                                call.onCompleted();
                            }

                            @Override
                            public void fail(EtcdError error) {
                                call.onError(error.toStatusException());
                            }
                        },
                        executor,
                        streams);
        call.setOnReadyHandler(sender::ready);
        call.setOnCancelHandler(sender::cancel);
        sender.start(maintenance.openSnapshot());
    }
}
