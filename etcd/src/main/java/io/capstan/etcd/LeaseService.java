package io.capstan.etcd;

import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrantResponse;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.capstan.etcd.api.LeaseLeasesRequest;
import io.capstan.etcd.api.LeaseLeasesResponse;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.LeaseRevokeResponse;
import io.capstan.etcd.api.LeaseTimeToLiveRequest;
import io.capstan.etcd.api.LeaseTimeToLiveResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Lease gRPC service: unary calls handed to {@link LeaseOperations}, each keep-alive stream
 * to a {@link KeepAliveStream} of its own. Immutable; gRPC calls it on the API executor.
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {

    private final LeaseOperations leases;
    private final OpenStreams streams;

    LeaseService(LeaseOperations leases, OpenStreams streams) {
        this.leases = leases;
        this.streams = streams;
    }

    @Override
    public void leaseGrant(
            LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> responses) {
        Replies.send(leases.grant(request), responses);
    }

    @Override
    public void leaseRevoke(
            LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> responses) {
        Replies.send(leases.revoke(request), responses);
    }

    @Override
    public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(
            StreamObserver<LeaseKeepAliveResponse> responses) {
        return KeepAliveStream.open(
                (ServerCallStreamObserver<LeaseKeepAliveResponse>) responses,
                leases::keepAlive,
                streams);
    }

    @Override
    public void leaseTimeToLive(
            LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> responses) {
        Replies.send(leases.timeToLive(request), responses);
    }

    @Override
    public void leaseLeases(
            LeaseLeasesRequest request, StreamObserver<LeaseLeasesResponse> responses) {
        Replies.send(leases.leases(request), responses);
    }
}
