package io.capstan.etcd;

import io.capstan.etcd.api.AlarmRequest;
import io.capstan.etcd.api.AlarmResponse;
import io.capstan.etcd.api.DefragmentRequest;
import io.capstan.etcd.api.DefragmentResponse;
import io.capstan.etcd.api.HashKVRequest;
import io.capstan.etcd.api.HashKVResponse;
import io.capstan.etcd.api.HashRequest;
import io.capstan.etcd.api.HashResponse;
import io.capstan.etcd.api.MoveLeaderRequest;
import io.capstan.etcd.api.MoveLeaderResponse;
import io.capstan.raft.KvHash;
import io.capstan.raft.Member;
import io.capstan.raft.MemberAdmin;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.SnapshotExport;
import io.capstan.raft.StateDigest;
import io.capstan.raft.proto.AlarmChangeRequest;
import io.capstan.raft.proto.AlarmListRequest;
import io.capstan.raft.proto.AlarmMember;
import io.capstan.raft.proto.AlarmType;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Query;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Maintenance calls other than Status, shared by the gRPC service and the JSON gateway. Each
 * answers as etcd v3.5 does, with a full header, from this member alone unless said otherwise;
 * futures complete on the API executor and fail only with {@link EtcdException}.
 *
 * <ul>
 *   <li>Alarm: etcd's alarms, kept in the replicated state so that every member lists the same
 *       ones. GET lists them (linearizable, as etcd's goes through Raft; {@code NONE} lists every
 *       type); ACTIVATE and DEACTIVATE go through the log and answer the alarm raised or cleared
 *       (nothing when a deactivated one was not raised). A member raises NOSPACE itself when its
 *       data directory is short of space ({@link SpaceQuota}); while any NOSPACE is raised, writes
 *       that add data are refused. CORRUPT may be raised and cleared, but Capstan never raises it
 *       and it refuses nothing (replicas are compared by {@code HashKV}).
 *   <li>Defragment: accepted and does nothing. etcd compacts its bbolt file's free pages; Capstan's
 *       state is a snapshot file plus the Raft log, which snapshots purge, so nothing is left to
 *       defragment.
 *   <li>Hash: the first four bytes of the member's {@link StateDigest}, a SHA-256 of its whole
 *       applied state (history, leases, members); like etcd's Hash it describes the member's own
 *       store, and the header names the revision it covers.
 *   <li>HashKV: etcd's CRC-32C of the key-value history up to a revision, equal on every member
 *       that applied it (see {@link KvHash}); compacted or future revisions get etcd's errors.
 *   <li>MoveLeader: only the leader accepts it ({@code etcdserver: not leader} elsewhere, as etcd);
 *       the target must be a started voting member ({@code etcdserver: bad leader transferee}); it
 *       answers once the target leads.
 *   <li>Snapshot: see {@link SnapshotSender} and {@link #openSnapshot}.
 * </ul>
 *
 * <p>With auth on, every call here needs the root role, as in etcd (Status, in {@link
 * StatusOperation}, needs nothing: health checks call it).
 *
 * <p>Immutable; safe on any thread.
 */
final class MaintenanceOperations {

    private final RaftCalls raft;

    MaintenanceOperations(RaftCalls raft) {
        this.raft = raft;
    }

    CompletableFuture<AlarmResponse> alarm(AlarmRequest request) {
        return raft.asAdmin(
                () ->
                        switch (request.getAction()) {
                            case GET -> listAlarms(request);
                            case ACTIVATE, DEACTIVATE -> changeAlarm(request);
                            // etcd answers an unknown action with nothing.
                            case UNRECOGNIZED ->
                                    raft.currentRevision()
                                            .thenApply(revision -> alarms(revision, List.of()));
                        });
    }

    private CompletableFuture<AlarmResponse> listAlarms(AlarmRequest request) {
        AlarmType type = AlarmType.forNumber(request.getAlarmValue());
        AlarmListRequest list =
                AlarmListRequest.newBuilder()
                        .setAlarm(type == null ? AlarmType.NONE : type)
                        .build();
        return raft.query(
                        Query.newBuilder().setAlarmList(list).build(), ReadConsistency.LINEARIZABLE)
                .thenApply(
                        result ->
                                alarms(
                                        result.getRevision(),
                                        result.getAlarmList().getAlarmsList()));
    }

    private CompletableFuture<AlarmResponse> changeAlarm(AlarmRequest request) {
        AlarmChangeRequest change =
                AlarmChangeRequest.newBuilder()
                        .setActivate(request.getAction() == AlarmRequest.AlarmAction.ACTIVATE)
                        .setMemberId(request.getMemberID())
                        .setAlarmValue(request.getAlarmValue())
                        .build();
        return raft.propose(Command.newBuilder().setAlarmChange(change).build())
                .thenApply(
                        result ->
                                alarms(
                                        result.getRevision(),
                                        result.getAlarmChange().getAlarmsList()));
    }

    private AlarmResponse alarms(long revision, List<AlarmMember> alarms) {
        AlarmResponse.Builder response =
                AlarmResponse.newBuilder().setHeader(raft.header(revision));
        for (AlarmMember alarm : alarms) {
            response.addAlarmsBuilder()
                    .setMemberID(alarm.getMemberId())
                    .setAlarmValue(alarm.getAlarmValue());
        }
        return response.build();
    }

    CompletableFuture<DefragmentResponse> defragment(DefragmentRequest request) {
        return raft.asAdmin(
                () ->
                        raft.currentRevision()
                                .thenApply(
                                        revision ->
                                                DefragmentResponse.newBuilder()
                                                        .setHeader(raft.header(revision))
                                                        .build()));
    }

    CompletableFuture<HashResponse> hash(HashRequest request) {
        return raft.asAdmin(
                () ->
                        raft.call(node -> CompletableFuture.completedFuture(node.stateDigest()))
                                .thenApply(
                                        digest ->
                                                HashResponse.newBuilder()
                                                        .setHeader(raft.header(digest.revision()))
                                                        .setHash(
                                                                HexFormat.fromHexDigits(
                                                                        digest.sha256(), 0, 8))
                                                        .build()));
    }

    CompletableFuture<HashKVResponse> hashKv(HashKVRequest request) {
        return raft.asAdmin(
                () ->
                        raft.call(
                                        node ->
                                                CompletableFuture.completedFuture(
                                                        node.hashKv(request.getRevision())))
                                .thenApply(
                                        hash ->
                                                HashKVResponse.newBuilder()
                                                        .setHeader(
                                                                raft.header(hash.currentRevision()))
                                                        .setHash(hash.hash())
                                                        .setCompactRevision(hash.compactRevision())
                                                        .setHashRevision(hash.revision())
                                                        .build()));
    }

    CompletableFuture<MoveLeaderResponse> moveLeader(MoveLeaderRequest request) {
        return raft.asAdmin(
                () -> {
                    if (raft.status().role() != NodeStatus.Role.LEADER) {
                        return CompletableFuture.failedFuture(EtcdErrors.NOT_LEADER.toException());
                    }
                    return transferee(request.getTargetID())
                            .thenCompose(
                                    name ->
                                            name.isPresent()
                                                    ? raft.admin(
                                                            admin ->
                                                                    admin.transferLeadership(
                                                                            name.get()))
                                                    : CompletableFuture.failedFuture(
                                                            EtcdErrors.BAD_LEADER_TRANSFEREE
                                                                    .toException()))
                            .thenCompose(done -> raft.currentRevision())
                            .thenApply(
                                    revision ->
                                            MoveLeaderResponse.newBuilder()
                                                    .setHeader(raft.header(revision))
                                                    .build());
                });
    }

    /**
     * Takes a snapshot of this member now and opens it for sending; the one place the Snapshot call
     * reaches Raft, for both transports.
     */
    CompletableFuture<SnapshotExport> openSnapshot() {
        return raft.asAdmin(() -> raft.admin(MemberAdmin::exportSnapshot));
    }

    /** The member etcd member id {@code id} names, if it can lead: started and voting. */
    private CompletableFuture<Optional<String>> transferee(long id) {
        return raft.admin(admin -> admin.members(ReadConsistency.SERIALIZABLE))
                .thenApply(
                        members ->
                                members.stream()
                                        .filter(
                                                member ->
                                                        member.id() == id
                                                                && member.started()
                                                                && !member.learner())
                                        .map(Member::name)
                                        .findFirst());
    }
}
