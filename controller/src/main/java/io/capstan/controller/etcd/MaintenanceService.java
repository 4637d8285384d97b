package io.capstan.controller.etcd;

import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.StatusResponse;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Maintenance gRPC service. Only Status is served so far; every other method keeps the
 * generated base's answer, UNIMPLEMENTED. Immutable; gRPC calls it on the API executor.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {

    private final StatusOperation status;

    MaintenanceService(StatusOperation status) {
        this.status = status;
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> responses) {
        Replies.send(status.status(request), responses);
    }
}
