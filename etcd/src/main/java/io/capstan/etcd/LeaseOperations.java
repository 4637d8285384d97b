package io.capstan.etcd;

import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrantResponse;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.capstan.etcd.api.LeaseLeasesRequest;
import io.capstan.etcd.api.LeaseLeasesResponse;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.LeaseRevokeResponse;
import io.capstan.etcd.api.LeaseStatus;
import io.capstan.etcd.api.LeaseTimeToLiveRequest;
import io.capstan.etcd.api.LeaseTimeToLiveResponse;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Query;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lease calls over the Raft node, shared by the gRPC service and the JSON gateway. Grants,
 * revocations and keep-alives go through the log; time-to-live and the lease list are answered by
 * the leader, which keeps the countdowns. Futures complete on the API executor and fail only with
 * {@link EtcdException}. Immutable; safe on any thread.
 *
 * <p>As in etcd: a TTL below the minimum is raised to it (a lease shorter than one and a half
 * election timeouts could expire during an ordinary change of leader); a keep-alive or time-to-live
 * of a lease that does not exist is an answer (TTL 0, or -1), not an error.
 */
final class LeaseOperations {

    private final RaftCalls raft;
    private final long minTtlSeconds;

    LeaseOperations(RaftCalls raft, long minTtlSeconds) {
        this.raft = raft;
        this.minTtlSeconds = minTtlSeconds;
    }

    /** etcd's rule for the shortest lease: one and a half election timeouts, in whole seconds. */
    static long minTtlSeconds(Duration electionTimeoutMax) {
        long millis = electionTimeoutMax.toMillis() * 3 / 2;
        return Math.max(1, (millis + 999) / 1000);
    }

    CompletableFuture<LeaseGrantResponse> grant(LeaseGrantRequest request) {
        Command command =
                Command.newBuilder()
                        .setLeaseGrant(
                                io.capstan.raft.proto.LeaseGrantRequest.newBuilder()
                                        .setId(request.getID())
                                        .setTtl(Math.max(request.getTTL(), minTtlSeconds)))
                        .build();
        return raft.propose(command)
                .thenApply(
                        result ->
                                Wire.toEtcd(result.getLeaseGrant(), LeaseGrantResponse.newBuilder())
                                        .setHeader(raft.header(result.getRevision()))
                                        .build());
    }

    CompletableFuture<LeaseRevokeResponse> revoke(LeaseRevokeRequest request) {
        return RaftCalls.guarded(
                () -> {
                    if (request.getID() <= 0) {
                        throw EtcdErrors.LEASE_NOT_FOUND.toException();
                    }
                    Command command =
                            Command.newBuilder()
                                    .setLeaseRevoke(
                                            io.capstan.raft.proto.LeaseRevokeRequest.newBuilder()
                                                    .setId(request.getID()))
                                    .build();
                    return raft.propose(command)
                            .thenApply(
                                    result ->
                                            LeaseRevokeResponse.newBuilder()
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }

    /**
     * One keep-alive; the TTL in the answer is the lease's full TTL, or 0 when it does not exist.
     */
    CompletableFuture<LeaseKeepAliveResponse> keepAlive(LeaseKeepAliveRequest request) {
        return RaftCalls.guarded(
                () -> {
                    if (request.getID() <= 0) {
                        return notFound(request.getID());
                    }
                    Command command =
                            Command.newBuilder()
                                    .setLeaseKeepAlive(
                                            io.capstan.raft.proto.LeaseKeepAliveRequest.newBuilder()
                                                    .setId(request.getID()))
                                    .build();
                    return raft.propose(command)
                            .thenApply(
                                    result ->
                                            Wire.toEtcd(
                                                            result.getLeaseKeepAlive(),
                                                            LeaseKeepAliveResponse.newBuilder())
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build())
                            .exceptionallyCompose(
                                    error -> {
                                        if (EtcdErrors.of(error)
                                                .equals(EtcdErrors.LEASE_NOT_FOUND)) {
                                            return notFound(request.getID());
                                        }
                                        return CompletableFuture.failedFuture(error);
                                    });
                });
    }

    CompletableFuture<LeaseTimeToLiveResponse> timeToLive(LeaseTimeToLiveRequest request) {
        return RaftCalls.guarded(
                () -> {
                    if (request.getID() <= 0) {
                        return raft.currentRevision()
                                .thenApply(
                                        revision ->
                                                LeaseTimeToLiveResponse.newBuilder()
                                                        .setHeader(raft.header(revision))
                                                        .setID(request.getID())
                                                        .setTTL(-1)
                                                        .build());
                    }
                    Query query =
                            Query.newBuilder()
                                    .setLeaseTimeToLive(
                                            io.capstan.raft.proto.LeaseTimeToLiveRequest
                                                    .newBuilder()
                                                    .setId(request.getID())
                                                    .setKeys(request.getKeys()))
                                    .build();
                    return raft.query(query, ReadConsistency.LINEARIZABLE)
                            .thenApply(
                                    result ->
                                            Wire.toEtcd(
                                                            result.getLeaseTimeToLive(),
                                                            LeaseTimeToLiveResponse.newBuilder())
                                                    .setHeader(raft.header(result.getRevision()))
                                                    .build());
                });
    }

    CompletableFuture<LeaseLeasesResponse> leases(LeaseLeasesRequest request) {
        Query query =
                Query.newBuilder()
                        .setLeaseLeases(
                                io.capstan.raft.proto.LeaseLeasesRequest.getDefaultInstance())
                        .build();
        return raft.query(query, ReadConsistency.LINEARIZABLE)
                .thenApply(
                        result -> {
                            LeaseLeasesResponse.Builder response =
                                    LeaseLeasesResponse.newBuilder()
                                            .setHeader(raft.header(result.getRevision()));
                            for (long id : result.getLeaseLeases().getIdsList()) {
                                response.addLeases(LeaseStatus.newBuilder().setID(id));
                            }
                            return response.build();
                        });
    }

    private CompletableFuture<LeaseKeepAliveResponse> notFound(long id) {
        return raft.currentRevision()
                .thenApply(
                        revision ->
                                LeaseKeepAliveResponse.newBuilder()
                                        .setHeader(raft.header(revision))
                                        .setID(id)
                                        .setTTL(0)
                                        .build());
    }
}
