package io.capstan.raft;

import io.capstan.raft.AuthState.Access;
import io.capstan.raft.proto.AlarmListResponse;
import io.capstan.raft.proto.ArtifactGetResponse;
import io.capstan.raft.proto.ArtifactListResponse;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.LeaseLeasesResponse;
import io.capstan.raft.proto.LeaseTimeToLiveRequest;
import io.capstan.raft.proto.LeaseTimeToLiveResponse;
import io.capstan.raft.proto.MemberListResponse;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RangeRequest;
import java.util.concurrent.CompletableFuture;

/**
 * Answers read-only {@link Query}s from a replica's store, checked against the caller's permissions
 * as of that store: the one implementation of every query, used by the Ratis state machine and by
 * {@link LocalKeyspaceNode}. Reads without locks (see {@link MvccStore}); any thread.
 */
final class QueryAnswers {
    private final CommandValidator validator;
    private final LeaseExpiry leaseExpiry;

    /**
     * @param leaseExpiry the countdowns that say how long a lease has left
     */
    QueryAnswers(CommandValidator validator, LeaseExpiry leaseExpiry) {
        this.validator = validator;
        this.leaseExpiry = leaseExpiry;
    }

    /** Answers {@code query} from {@code current}; any thread. */
    CompletableFuture<QueryResult> answer(MvccStore current, Query query) {
        try {
            validator.validate(query);
            AuthState auth = current.auth();
            Caller caller = query.hasCaller() ? query.getCaller() : null;
            return switch (query.getQueryCase()) {
                case RANGE -> {
                    RangeRequest range = query.getRange();
                    if (caller != null) {
                        auth.checkKeys(caller, Access.READ, range.getKey(), range.getRangeEnd());
                    }
                    long at = current.readableRevision(range.getRevision());
                    QueryResult.Builder result =
                            QueryResult.newBuilder().setRange(RangeReader.read(current, range, at));
                    current.checkReadable(at);
                    yield CompletableFuture.completedFuture(
                            result.setRevision(current.revision()).build());
                }
                case LEASE_TIME_TO_LIVE -> timeToLive(current, query.getLeaseTimeToLive());
                case LEASE_LEASES ->
                        CompletableFuture.completedFuture(
                                QueryResult.newBuilder()
                                        .setRevision(current.revision())
                                        .setLeaseLeases(
                                                LeaseLeasesResponse.newBuilder()
                                                        .addAllIds(current.leaseIds()))
                                        .build());
                case MEMBER_LIST ->
                        CompletableFuture.completedFuture(
                                QueryResult.newBuilder()
                                        .setRevision(current.revision())
                                        .setMemberList(
                                                MemberListResponse.newBuilder()
                                                        .addAllMembers(current.members()))
                                        .build());
                case AUTH_STATUS, USER_GET, USER_LIST, ROLE_GET, ROLE_LIST ->
                        CompletableFuture.completedFuture(
                                AuthQueries.answer(auth, caller, query)
                                        .setRevision(current.revision())
                                        .build());
                case ARTIFACT_LIST ->
                        CompletableFuture.completedFuture(
                                QueryResult.newBuilder()
                                        .setRevision(current.revision())
                                        .setArtifactList(
                                                ArtifactListResponse.newBuilder()
                                                        .addAllArtifacts(current.artifacts()))
                                        .build());
                case ARTIFACT_GET -> {
                    String digest = query.getArtifactGet().getDigest();
                    ArtifactRecord artifact = current.artifact(digest);
                    if (artifact == null) {
                        throw KeyspaceException.of(
                                Failure.Code.ARTIFACT_NOT_FOUND,
                                "artifact " + digest + " is not registered");
                    }
                    yield CompletableFuture.completedFuture(
                            QueryResult.newBuilder()
                                    .setRevision(current.revision())
                                    .setArtifactGet(
                                            ArtifactGetResponse.newBuilder().setArtifact(artifact))
                                    .build());
                }
                case ALARM_LIST ->
                        CompletableFuture.completedFuture(
                                QueryResult.newBuilder()
                                        .setRevision(current.revision())
                                        .setAlarmList(
                                                AlarmListResponse.newBuilder()
                                                        .addAllAlarms(
                                                                AlarmCommands.list(
                                                                        current,
                                                                        query.getAlarmList()
                                                                                .getAlarm())))
                                        .build());
                case QUERY_NOT_SET ->
                        CompletableFuture.completedFuture(
                                failure(Failure.Code.INVALID, "query is empty"));
            };
        } catch (KeyspaceException e) {
            return CompletableFuture.completedFuture(
                    QueryResult.newBuilder()
                            .setRevision(current.revision())
                            .setFailure(e.toFailure())
                            .build());
        } catch (InvalidCommandException e) {
            return CompletableFuture.completedFuture(failure(Failure.Code.INVALID, e.getMessage()));
        }
    }

    /**
     * The leader keeps the countdowns, so only its answer has the true time left; elsewhere the
     * granted TTL stands in for it (an upper bound).
     */
    private CompletableFuture<QueryResult> timeToLive(
            MvccStore current, LeaseTimeToLiveRequest request) {
        Lease lease = current.lease(request.getId());
        long revision = current.revision();
        if (lease == null) {
            return CompletableFuture.completedFuture(
                    QueryResult.newBuilder()
                            .setRevision(revision)
                            .setLeaseTimeToLive(
                                    LeaseTimeToLiveResponse.newBuilder()
                                            .setId(request.getId())
                                            .setTtl(-1))
                            .build());
        }
        return leaseExpiry
                .remainingSeconds(lease.id())
                .thenApply(
                        left -> {
                            LeaseTimeToLiveResponse.Builder response =
                                    LeaseTimeToLiveResponse.newBuilder()
                                            .setId(lease.id())
                                            .setGrantedTtl(lease.ttlSeconds())
                                            .setTtl(left >= 0 ? left : lease.ttlSeconds());
                            if (request.getKeys()) {
                                response.addAllKeys(lease.keys());
                            }
                            return QueryResult.newBuilder()
                                    .setRevision(revision)
                                    .setLeaseTimeToLive(response)
                                    .build();
                        });
    }

    static QueryResult failure(Failure.Code code, String message) {
        return QueryResult.newBuilder()
                .setFailure(Failure.newBuilder().setCode(code).setMessage(message))
                .build();
    }
}
