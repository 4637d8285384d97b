package io.capstan.etcd;

import io.capstan.etcd.api.ClusterGrpc;
import io.capstan.etcd.api.MemberAddRequest;
import io.capstan.etcd.api.MemberAddResponse;
import io.capstan.etcd.api.MemberListRequest;
import io.capstan.etcd.api.MemberListResponse;
import io.capstan.etcd.api.MemberPromoteRequest;
import io.capstan.etcd.api.MemberPromoteResponse;
import io.capstan.etcd.api.MemberRemoveRequest;
import io.capstan.etcd.api.MemberRemoveResponse;
import io.capstan.etcd.api.MemberUpdateRequest;
import io.capstan.etcd.api.MemberUpdateResponse;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Cluster gRPC service, handed to {@link ClusterOperations}. Immutable; gRPC calls it on the
 * API executor.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {

    private final ClusterOperations cluster;

    ClusterService(ClusterOperations cluster) {
        this.cluster = cluster;
    }

    @Override
    public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> responses) {
        Replies.send(cluster.add(request), responses);
    }

    @Override
    public void memberRemove(
            MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> responses) {
        Replies.send(cluster.remove(request), responses);
    }

    @Override
    public void memberUpdate(
            MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> responses) {
        Replies.send(cluster.update(request), responses);
    }

    @Override
    public void memberList(
            MemberListRequest request, StreamObserver<MemberListResponse> responses) {
        Replies.send(cluster.list(request), responses);
    }

    @Override
    public void memberPromote(
            MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> responses) {
        Replies.send(cluster.promote(request), responses);
    }
}
