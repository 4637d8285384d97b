package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.AuthState.Access;
import io.capstan.raft.proto.AuthChangeResponse;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.CompactionRequest;
import io.capstan.raft.proto.CompactionResponse;
import io.capstan.raft.proto.Compare;
import io.capstan.raft.proto.DeleteRangeRequest;
import io.capstan.raft.proto.DeleteRangeResponse;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.LeaseExpireResponse;
import io.capstan.raft.proto.LeaseGrantRequest;
import io.capstan.raft.proto.LeaseGrantResponse;
import io.capstan.raft.proto.LeaseKeepAliveResponse;
import io.capstan.raft.proto.LeaseRevokeResponse;
import io.capstan.raft.proto.MemberDeleteResponse;
import io.capstan.raft.proto.MemberPutResponse;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.PutResponse;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RequestOp;
import io.capstan.raft.proto.ResponseOp;
import io.capstan.raft.proto.RoleGrantPermissionRequest;
import io.capstan.raft.proto.RoleRevokePermissionRequest;
import io.capstan.raft.proto.TxnRequest;
import io.capstan.raft.proto.TxnResponse;
import io.capstan.raft.proto.UserAddRequest;
import io.capstan.raft.proto.UserChangePasswordRequest;
import io.capstan.raft.proto.UserGrantRoleRequest;
import io.capstan.raft.proto.UserRevokeRoleRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Applies commands to a {@link MvccStore} with etcd's semantics. {@link #apply} is a function of
 * the store, the command and its log index: no clock, no randomness, no I/O, so every replica that
 * applies the same log reaches the same state.
 *
 * <p>Revisions: a command that writes at least one key publishes exactly one new revision, however
 * many keys it writes; a command that writes nothing (a delete that matched no key, a read-only
 * transaction, a revoke of a lease without keys, a compaction, a member record, an auth command, an
 * artifact command) leaves it unchanged.
 *
 * <p>A command from a client carries its {@link Caller}; with auth on it is checked against the
 * auth state before anything is applied (see {@link #authorize}).
 *
 * <p>Refusals (a compacted or future revision, a missing lease, a missing key for {@code
 * ignore_value}) are all detected before the first write and returned as a {@link Failure}; a
 * transaction whose compares fail runs its failure branch and reports {@code succeeded = false}.
 * Apply never throws on a command that passed {@link CommandValidator}.
 *
 * <p>Each revision published is then handed, with its changes (one per key written, with the
 * version it replaced), to {@link AppliedChanges}: puts, deletes, and the deletes of lease
 * revocation and expiry alike, so watches see them all.
 *
 * <p>Threading: the apply thread only.
 */
final class Applier {
    private final MvccStore store;
    private final LeaseEvents events;
    private final AppliedChanges changes;
    private final ArtifactCommands artifacts;

    Applier(MvccStore store, LeaseEvents events, AppliedChanges changes) {
        this.store = store;
        this.events = events;
        this.changes = changes;
        this.artifacts = new ArtifactCommands(store);
    }

    CommandResult apply(Command command, long logIndex) {
        store.beginCommand();
        try {
            if (command.hasCaller()) {
                authorize(command);
            }
            AlarmCommands.checkCapped(store, command);
            return switch (command.getCommandCase()) {
                case PUT -> {
                    Write write = new Write();
                    write.checkPut(command.getPut());
                    PutResponse response = write.put(command.getPut());
                    yield write.finish().setPut(response).build();
                }
                case DELETE_RANGE -> {
                    Write write = new Write();
                    DeleteRangeResponse response = write.deleteRange(command.getDeleteRange());
                    yield write.finish().setDeleteRange(response).build();
                }
                case TXN -> {
                    Write write = new Write();
                    Path path = write.plan(command.getTxn());
                    write.check(command.getTxn(), path);
                    TxnResponse response = write.txn(command.getTxn(), path);
                    yield write.finish().setTxn(response).build();
                }
                case COMPACTION -> compact(command.getCompaction());
                case LEASE_GRANT -> grant(command.getLeaseGrant(), logIndex);
                case LEASE_REVOKE -> {
                    long id = command.getLeaseRevoke().getId();
                    Lease lease = requireLease(id);
                    Write write = new Write();
                    write.revoke(lease);
                    yield write.finish()
                            .setLeaseRevoke(LeaseRevokeResponse.getDefaultInstance())
                            .build();
                }
                case LEASE_KEEP_ALIVE -> {
                    Lease lease = requireLease(command.getLeaseKeepAlive().getId());
                    events.renewed(lease.id(), lease.ttlSeconds());
                    yield current()
                            .setLeaseKeepAlive(
                                    LeaseKeepAliveResponse.newBuilder()
                                            .setId(lease.id())
                                            .setTtl(lease.ttlSeconds()))
                            .build();
                }
                case LEASE_EXPIRE -> {
                    Write write = new Write();
                    LeaseExpireResponse.Builder response = LeaseExpireResponse.newBuilder();
                    for (long id : command.getLeaseExpire().getIdsList()) {
                        Lease lease = store.lease(id);
                        if (lease != null) {
                            write.revoke(lease);
                            response.addExpired(id);
                        }
                    }
                    yield write.finish().setLeaseExpire(response).build();
                }
                case MEMBER_PUT -> {
                    long id = command.getMemberPut().getMember().getId();
                    if (store.removedMembers().contains(id)) {
                        throw KeyspaceException.of(
                                Failure.Code.INVALID,
                                "member "
                                        + Long.toHexString(id)
                                        + " was removed from the cluster; its record is not put back");
                    }
                    store.putMember(command.getMemberPut().getMember());
                    yield current().setMemberPut(MemberPutResponse.getDefaultInstance()).build();
                }
                case MEMBER_DELETE -> {
                    boolean deleted = store.removeMember(command.getMemberDelete().getId());
                    yield current()
                            .setMemberDelete(MemberDeleteResponse.newBuilder().setDeleted(deleted))
                            .build();
                }
                case AUTH_ENABLE ->
                        changeAuth(store.auth().enable(command.getAuthEnable().getTokenKey()));
                case AUTH_DISABLE -> changeAuth(store.auth().disable());
                case USER_ADD -> {
                    UserAddRequest add = command.getUserAdd();
                    yield changeAuth(
                            store.auth()
                                    .addUser(
                                            add.getName(),
                                            add.getPasswordHash(),
                                            add.getNoPassword()));
                }
                case USER_DELETE ->
                        changeAuth(store.auth().deleteUser(command.getUserDelete().getName()));
                case USER_CHANGE_PASSWORD -> {
                    UserChangePasswordRequest change = command.getUserChangePassword();
                    yield changeAuth(
                            store.auth()
                                    .changePassword(change.getName(), change.getPasswordHash()));
                }
                case USER_GRANT_ROLE -> {
                    UserGrantRoleRequest grant = command.getUserGrantRole();
                    yield changeAuth(store.auth().grantRole(grant.getUser(), grant.getRole()));
                }
                case USER_REVOKE_ROLE -> {
                    UserRevokeRoleRequest revoke = command.getUserRevokeRole();
                    yield changeAuth(store.auth().revokeRole(revoke.getName(), revoke.getRole()));
                }
                case ROLE_ADD -> changeAuth(store.auth().addRole(command.getRoleAdd().getName()));
                case ROLE_DELETE ->
                        changeAuth(store.auth().deleteRole(command.getRoleDelete().getRole()));
                case ROLE_GRANT_PERMISSION -> {
                    RoleGrantPermissionRequest grant = command.getRoleGrantPermission();
                    yield changeAuth(
                            store.auth().grantPermission(grant.getName(), grant.getPerm()));
                }
                case ROLE_REVOKE_PERMISSION -> {
                    RoleRevokePermissionRequest revoke = command.getRoleRevokePermission();
                    yield changeAuth(
                            store.auth()
                                    .revokePermission(
                                            revoke.getRole(),
                                            revoke.getKey(),
                                            revoke.getRangeEnd()));
                }
                case ARTIFACT_REGISTER ->
                        current()
                                .setArtifactRegister(
                                        artifacts.register(command.getArtifactRegister()))
                                .build();
                case ARTIFACT_FETCHED ->
                        current()
                                .setArtifactFetched(artifacts.fetched(command.getArtifactFetched()))
                                .build();
                case ARTIFACT_RELEASE ->
                        current()
                                .setArtifactRelease(artifacts.release(command.getArtifactRelease()))
                                .build();
                case ARTIFACT_DELETE ->
                        current()
                                .setArtifactDelete(artifacts.delete(command.getArtifactDelete()))
                                .build();
                case ALARM_CHANGE ->
                        current()
                                .setAlarmChange(
                                        AlarmCommands.change(store, command.getAlarmChange()))
                                .build();
                case COMMAND_NOT_SET ->
                        throw KeyspaceException.of(Failure.Code.INVALID, "command is empty");
            };
        } catch (KeyspaceException refused) {
            return current().setFailure(refused.toFailure()).build();
        } finally {
            store.endCommand();
        }
    }

    /**
     * etcd's checks of a client's command against the auth state it is applied to, so a change of
     * roles or permissions holds from the next command on, on every member alike: keys read need
     * READ, keys written WRITE; a transaction needs what each compare and each op of both branches
     * needs; revoking a lease needs WRITE on every key attached to it; auth administration needs
     * root. Lease grants, keep-alives and compactions are not checked, as in etcd.
     */
    private void authorize(Command command) {
        AuthState auth = store.auth();
        if (!auth.enabled()) {
            return;
        }
        Caller caller = command.getCaller();
        switch (command.getCommandCase()) {
            case PUT -> checkPut(auth, caller, command.getPut());
            case DELETE_RANGE -> checkDelete(auth, caller, command.getDeleteRange());
            case TXN -> checkTxn(auth, caller, command.getTxn());
            case LEASE_REVOKE -> {
                Lease lease = store.lease(command.getLeaseRevoke().getId());
                if (lease != null) {
                    for (ByteString key : lease.keys()) {
                        auth.checkKeys(caller, Access.WRITE, key, ByteString.EMPTY);
                    }
                }
            }
            case AUTH_ENABLE,
                    AUTH_DISABLE,
                    USER_ADD,
                    USER_DELETE,
                    USER_CHANGE_PASSWORD,
                    USER_GRANT_ROLE,
                    USER_REVOKE_ROLE,
                    ROLE_ADD,
                    ROLE_DELETE,
                    ROLE_GRANT_PERMISSION,
                    ROLE_REVOKE_PERMISSION,
                    ALARM_CHANGE ->
                    auth.checkAdmin(caller);
            case COMPACTION, LEASE_GRANT, LEASE_KEEP_ALIVE -> auth.authenticated(caller);
            case LEASE_EXPIRE,
                    MEMBER_PUT,
                    MEMBER_DELETE,
                    ARTIFACT_REGISTER,
                    ARTIFACT_FETCHED,
                    ARTIFACT_RELEASE,
                    ARTIFACT_DELETE ->
                    throw KeyspaceException.of(
                            Failure.Code.INVALID, "clients may not propose this command");
            case COMMAND_NOT_SET -> {}
        }
    }

    private static void checkPut(AuthState auth, Caller caller, PutRequest put) {
        auth.checkKeys(caller, Access.WRITE, put.getKey(), ByteString.EMPTY);
        if (put.getPrevKv()) {
            auth.checkKeys(caller, Access.READ, put.getKey(), ByteString.EMPTY);
        }
    }

    private static void checkDelete(AuthState auth, Caller caller, DeleteRangeRequest delete) {
        auth.checkKeys(caller, Access.WRITE, delete.getKey(), delete.getRangeEnd());
        if (delete.getPrevKv()) {
            auth.checkKeys(caller, Access.READ, delete.getKey(), delete.getRangeEnd());
        }
    }

    private static void checkTxn(AuthState auth, Caller caller, TxnRequest txn) {
        for (Compare compare : txn.getCompareList()) {
            auth.checkKeys(caller, Access.READ, compare.getKey(), compare.getRangeEnd());
        }
        for (List<RequestOp> branch : List.of(txn.getSuccessList(), txn.getFailureList())) {
            for (RequestOp op : branch) {
                switch (op.getRequestCase()) {
                    case REQUEST_RANGE -> {
                        RangeRequest range = op.getRequestRange();
                        auth.checkKeys(caller, Access.READ, range.getKey(), range.getRangeEnd());
                    }
                    case REQUEST_PUT -> checkPut(auth, caller, op.getRequestPut());
                    case REQUEST_DELETE_RANGE ->
                            checkDelete(auth, caller, op.getRequestDeleteRange());
                    case REQUEST_TXN -> checkTxn(auth, caller, op.getRequestTxn());
                    case REQUEST_NOT_SET -> {}
                }
            }
        }
    }

    /** Auth commands change no key, so the keyspace revision stays; the auth revision moves. */
    private CommandResult changeAuth(AuthState next) {
        store.setAuth(next);
        return current()
                .setAuthChange(AuthChangeResponse.newBuilder().setAuthRevision(next.revision()))
                .build();
    }

    private CommandResult.Builder current() {
        return CommandResult.newBuilder().setRevision(store.revision());
    }

    private Lease requireLease(long id) {
        Lease lease = store.lease(id);
        if (lease == null) {
            throw KeyspaceException.of(Failure.Code.LEASE_NOT_FOUND, "lease " + id + " not found");
        }
        return lease;
    }

    /**
     * etcd's rules, in its order: a revision at or below the compact revision is compacted (so is
     * any negative one; 0 is accepted once on a store never compacted), above the latest a future
     * one.
     */
    private CommandResult compact(CompactionRequest request) {
        long target = request.getRevision();
        long current = store.revision();
        if (target <= store.compactRevision()) {
            throw KeyspaceException.compacted(target, store.compactRevision());
        }
        if (target > current) {
            throw KeyspaceException.futureRevision(target, current);
        }
        store.compact(target);
        return current().setCompaction(CompactionResponse.getDefaultInstance()).build();
    }

    private CommandResult grant(LeaseGrantRequest request, long logIndex) {
        long id = request.getId();
        if (id != 0 && store.lease(id) != null) {
            throw KeyspaceException.of(
                    Failure.Code.LEASE_EXISTS, "lease " + id + " already exists");
        }
        if (id == 0) {
            id = pickLeaseId(logIndex);
        }
        store.addLease(new Lease(id, request.getTtl()));
        events.granted(id, request.getTtl());
        return current()
                .setLeaseGrant(LeaseGrantResponse.newBuilder().setId(id).setTtl(request.getTtl()))
                .build();
    }

    /**
     * A lease id derived from the entry's log index, which every replica knows: the index itself
     * when free, else a deterministic scramble of it until a free positive id comes up.
     */
    private long pickLeaseId(long logIndex) {
        long candidate = logIndex;
        while (candidate <= 0 || store.lease(candidate) != null) {
            candidate = scramble(candidate) & Long.MAX_VALUE;
        }
        return candidate;
    }

    private static long scramble(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Which branch each transaction takes, decided up front against the revision before it. */
    private record Path(boolean succeeded, List<Path> nested) {}

    /**
     * One command's writes: all at revision {@code next}, published together by {@link #finish}.
     */
    private final class Write {
        private final long base = store.revision();
        private final long next = base + 1;
        private final List<Change> written = new ArrayList<>();

        CommandResult.Builder finish() {
            if (!written.isEmpty()) {
                store.publish(next);
                changes.applied(next, written);
            }
            return current();
        }

        Path plan(TxnRequest txn) {
            boolean succeeded = true;
            for (Compare compare : txn.getCompareList()) {
                if (!holds(compare)) {
                    succeeded = false;
                    break;
                }
            }
            List<Path> nested = new ArrayList<>();
            for (RequestOp op : branch(txn, succeeded)) {
                if (op.hasRequestTxn()) {
                    nested.add(plan(op.getRequestTxn()));
                }
            }
            return new Path(succeeded, nested);
        }

        void check(TxnRequest txn, Path path) {
            int nested = 0;
            for (RequestOp op : branch(txn, path.succeeded())) {
                switch (op.getRequestCase()) {
                    case REQUEST_PUT -> checkPut(op.getRequestPut());
                    case REQUEST_RANGE -> checkRange(op.getRequestRange());
                    case REQUEST_TXN -> check(op.getRequestTxn(), path.nested().get(nested++));
                    default -> {}
                }
            }
        }

        TxnResponse txn(TxnRequest txn, Path path) {
            TxnResponse.Builder response = TxnResponse.newBuilder().setSucceeded(path.succeeded());
            int nested = 0;
            for (RequestOp op : branch(txn, path.succeeded())) {
                ResponseOp.Builder result = ResponseOp.newBuilder();
                switch (op.getRequestCase()) {
                    case REQUEST_PUT -> result.setResponsePut(put(op.getRequestPut()));
                    case REQUEST_DELETE_RANGE ->
                            result.setResponseDeleteRange(deleteRange(op.getRequestDeleteRange()));
                    case REQUEST_RANGE -> {
                        RangeRequest range = op.getRequestRange();
                        // Revision 0 reads this transaction's own earlier writes, as etcd does.
                        long at = range.getRevision() > 0 ? range.getRevision() : next;
                        result.setResponseRange(RangeReader.read(store, range, at));
                    }
                    case REQUEST_TXN ->
                            result.setResponseTxn(
                                    txn(op.getRequestTxn(), path.nested().get(nested++)));
                    case REQUEST_NOT_SET -> {}
                }
                response.addResponses(result);
            }
            return response.build();
        }

        private List<RequestOp> branch(TxnRequest txn, boolean succeeded) {
            return succeeded ? txn.getSuccessList() : txn.getFailureList();
        }

        /** etcd: a missing key fails a VALUE compare and compares as all zeros for the others. */
        private boolean holds(Compare compare) {
            List<KeyRevision> found = new ArrayList<>();
            store.scan(
                    compare.getKey(),
                    compare.getRangeEnd(),
                    base,
                    (key, version) -> found.add(version));
            if (found.isEmpty()) {
                return compare.getTarget() != Compare.CompareTarget.VALUE
                        && matches(compare, new KeyRevision(0, 0, 0, ByteString.EMPTY, 0, 0));
            }
            for (KeyRevision version : found) {
                if (!matches(compare, version)) {
                    return false;
                }
            }
            return true;
        }

        private boolean matches(Compare compare, KeyRevision version) {
            int order =
                    switch (compare.getTarget()) {
                        case VERSION -> Long.compare(version.version(), compare.getVersion());
                        case CREATE ->
                                Long.compare(version.createRevision(), compare.getCreateRevision());
                        case MOD -> Long.compare(version.modRevision(), compare.getModRevision());
                        case VALUE ->
                                MvccStore.KEY_ORDER.compare(version.value(), compare.getValue());
                        case LEASE -> Long.compare(version.lease(), compare.getLease());
                        case UNRECOGNIZED ->
                                throw KeyspaceException.of(
                                        Failure.Code.INVALID, "unknown compare target");
                    };
            return switch (compare.getResult()) {
                case EQUAL -> order == 0;
                case NOT_EQUAL -> order != 0;
                case GREATER -> order > 0;
                case LESS -> order < 0;
                case UNRECOGNIZED ->
                        throw KeyspaceException.of(Failure.Code.INVALID, "unknown compare result");
            };
        }

        void checkPut(PutRequest put) {
            if ((put.getIgnoreValue() || put.getIgnoreLease())
                    && store.get(put.getKey(), base) == null) {
                throw KeyspaceException.of(
                        Failure.Code.KEY_NOT_FOUND,
                        "key " + CommandValidator.printable(put.getKey()) + " not found");
            }
            if (put.getLease() != 0) {
                requireLease(put.getLease());
            }
        }

        /**
         * etcd's check of a read inside a transaction: any revision but 0 below the compact
         * revision is compacted, a negative one included (it then reads the latest, as 0 does).
         */
        private void checkRange(RangeRequest range) {
            if (range.getRevision() > base) {
                throw KeyspaceException.futureRevision(range.getRevision(), base);
            }
            if (range.getRevision() != 0) {
                store.checkReadable(range.getRevision());
            }
        }

        PutResponse put(PutRequest put) {
            ByteString key = put.getKey();
            KeyRevision prior = store.get(key, next);
            ByteString value =
                    put.getIgnoreValue() && prior != null ? prior.value() : put.getValue();
            long lease = put.getIgnoreLease() && prior != null ? prior.lease() : put.getLease();
            long created = prior == null ? next : prior.createRevision();
            long version = prior == null ? 1 : prior.version() + 1;
            if (prior != null && prior.lease() != 0 && prior.lease() != lease) {
                detach(key, prior.lease());
            }
            if (lease != 0) {
                Lease attached = store.lease(lease);
                if (attached != null) {
                    attached.attach(key);
                }
            }
            KeyRevision stored =
                    new KeyRevision(next, created, version, value, lease, written.size());
            store.writeVersion(key, stored);
            written.add(new Change(key, stored, prior));
            PutResponse.Builder response = PutResponse.newBuilder();
            if (put.getPrevKv() && prior != null) {
                response.setPrevKv(prior.toKeyValue(key, false));
            }
            return response.build();
        }

        DeleteRangeResponse deleteRange(DeleteRangeRequest delete) {
            List<Map.Entry<ByteString, KeyRevision>> doomed = new ArrayList<>();
            store.scan(
                    delete.getKey(),
                    delete.getRangeEnd(),
                    next,
                    (key, version) -> doomed.add(Map.entry(key, version)));
            DeleteRangeResponse.Builder response =
                    DeleteRangeResponse.newBuilder().setDeleted(doomed.size());
            for (Map.Entry<ByteString, KeyRevision> e : doomed) {
                delete(e.getKey(), e.getValue());
                if (delete.getPrevKv()) {
                    response.addPrevKvs(e.getValue().toKeyValue(e.getKey(), false));
                }
            }
            return response.build();
        }

        /** Deletes the lease's keys at this revision and forgets the lease. */
        void revoke(Lease lease) {
            for (ByteString key : lease.keys()) {
                KeyRevision prior = store.get(key, next);
                if (prior != null) {
                    delete(key, prior);
                }
            }
            store.removeLease(lease.id());
            events.revoked(lease.id());
        }

        private void delete(ByteString key, KeyRevision prior) {
            if (prior.lease() != 0) {
                detach(key, prior.lease());
            }
            KeyRevision tombstone = KeyRevision.tombstone(next, written.size());
            store.writeVersion(key, tombstone);
            written.add(new Change(key, tombstone, prior));
        }

        private void detach(ByteString key, long leaseId) {
            Lease lease = store.lease(leaseId);
            if (lease != null) {
                lease.detach(key);
            }
        }
    }
}
