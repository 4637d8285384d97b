package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.AuthEnableRequest;
import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CompactionRequest;
import io.capstan.raft.proto.Compare;
import io.capstan.raft.proto.DeleteRangeRequest;
import io.capstan.raft.proto.LeaseExpireRequest;
import io.capstan.raft.proto.LeaseGrantRequest;
import io.capstan.raft.proto.LeaseKeepAliveRequest;
import io.capstan.raft.proto.LeaseRevokeRequest;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RequestOp;
import io.capstan.raft.proto.RoleAddRequest;
import io.capstan.raft.proto.RoleGrantPermissionRequest;
import io.capstan.raft.proto.TxnRequest;
import io.capstan.raft.proto.UserAddRequest;
import io.capstan.raft.proto.UserGrantRoleRequest;
import java.util.List;

/** Short builders for commands and queries in tests. */
final class Ops {
    private Ops() {}

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    static PutRequest putReq(String key, String value) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build();
    }

    static Command put(String key, String value) {
        return Command.newBuilder().setPut(putReq(key, value)).build();
    }

    static Command put(PutRequest put) {
        return Command.newBuilder().setPut(put).build();
    }

    static DeleteRangeRequest deleteReq(String key, String end) {
        return DeleteRangeRequest.newBuilder().setKey(bytes(key)).setRangeEnd(bytes(end)).build();
    }

    static Command delete(String key) {
        return Command.newBuilder().setDeleteRange(deleteReq(key, "")).build();
    }

    static Command delete(DeleteRangeRequest delete) {
        return Command.newBuilder().setDeleteRange(delete).build();
    }

    static RangeRequest rangeReq(String key, String end) {
        return RangeRequest.newBuilder().setKey(bytes(key)).setRangeEnd(bytes(end)).build();
    }

    static Query range(RangeRequest range) {
        return Query.newBuilder().setRange(range).build();
    }

    static RequestOp op(PutRequest put) {
        return RequestOp.newBuilder().setRequestPut(put).build();
    }

    static RequestOp op(DeleteRangeRequest delete) {
        return RequestOp.newBuilder().setRequestDeleteRange(delete).build();
    }

    static RequestOp op(RangeRequest range) {
        return RequestOp.newBuilder().setRequestRange(range).build();
    }

    static RequestOp op(TxnRequest txn) {
        return RequestOp.newBuilder().setRequestTxn(txn).build();
    }

    static Command txn(List<Compare> compares, List<RequestOp> success, List<RequestOp> failure) {
        return Command.newBuilder().setTxn(txnReq(compares, success, failure)).build();
    }

    static TxnRequest txnReq(
            List<Compare> compares, List<RequestOp> success, List<RequestOp> failure) {
        return TxnRequest.newBuilder()
                .addAllCompare(compares)
                .addAllSuccess(success)
                .addAllFailure(failure)
                .build();
    }

    static Compare.Builder compare(String key, Compare.CompareResult result) {
        return Compare.newBuilder().setKey(bytes(key)).setResult(result);
    }

    static Command compact(long revision) {
        return Command.newBuilder()
                .setCompaction(CompactionRequest.newBuilder().setRevision(revision))
                .build();
    }

    static Command grant(long id, long ttl) {
        return Command.newBuilder()
                .setLeaseGrant(LeaseGrantRequest.newBuilder().setId(id).setTtl(ttl))
                .build();
    }

    static Command revoke(long id) {
        return Command.newBuilder()
                .setLeaseRevoke(LeaseRevokeRequest.newBuilder().setId(id))
                .build();
    }

    static Command keepAlive(long id) {
        return Command.newBuilder()
                .setLeaseKeepAlive(LeaseKeepAliveRequest.newBuilder().setId(id))
                .build();
    }

    static Command expire(Long... ids) {
        return Command.newBuilder()
                .setLeaseExpire(LeaseExpireRequest.newBuilder().addAllIds(List.of(ids)))
                .build();
    }

    /** A token key of the size the API layer makes. */
    static final ByteString TOKEN_KEY = ByteString.copyFrom(new byte[32]);

    /** A well-formed bcrypt hash; no test logs in, so what it hashes does not matter. */
    static final String PASSWORD_HASH =
            "$2a$04$abcdefghijklmnopqrstuv0123456789012345678901234567890";

    /** {@code command} as sent by {@code caller}. */
    static Command as(Caller caller, Command command) {
        return command.toBuilder().setCaller(caller).build();
    }

    /** What a token for {@code user} carries, as the API layer builds it. */
    static Caller callerOf(AuthState auth, String user) {
        return Caller.newBuilder()
                .setUser(user)
                .setPasswordRevision(auth.user(user).orElseThrow().getPasswordRevision())
                .build();
    }

    static Command userAdd(String name) {
        return Command.newBuilder()
                .setUserAdd(
                        UserAddRequest.newBuilder().setName(name).setPasswordHash(PASSWORD_HASH))
                .build();
    }

    static Command grantRole(String user, String role) {
        return Command.newBuilder()
                .setUserGrantRole(UserGrantRoleRequest.newBuilder().setUser(user).setRole(role))
                .build();
    }

    static Command roleAdd(String name) {
        return Command.newBuilder().setRoleAdd(RoleAddRequest.newBuilder().setName(name)).build();
    }

    static Command grantPermission(String role, AuthPermission.Type type, String key, String end) {
        return Command.newBuilder()
                .setRoleGrantPermission(
                        RoleGrantPermissionRequest.newBuilder()
                                .setName(role)
                                .setPerm(
                                        AuthPermission.newBuilder()
                                                .setPermType(type)
                                                .setKey(bytes(key))
                                                .setRangeEnd(bytes(end))))
                .build();
    }

    static Command enableAuth() {
        return Command.newBuilder()
                .setAuthEnable(AuthEnableRequest.newBuilder().setTokenKey(TOKEN_KEY))
                .build();
    }
}
