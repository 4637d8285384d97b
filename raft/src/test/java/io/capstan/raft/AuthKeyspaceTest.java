package io.capstan.raft;

import static io.capstan.raft.Ops.as;
import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.callerOf;
import static io.capstan.raft.Ops.enableAuth;
import static io.capstan.raft.Ops.grantPermission;
import static io.capstan.raft.Ops.grantRole;
import static io.capstan.raft.Ops.putReq;
import static io.capstan.raft.Ops.rangeReq;
import static io.capstan.raft.Ops.roleAdd;
import static io.capstan.raft.Ops.userAdd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;

import io.capstan.raft.proto.AuthDisableRequest;
import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.AuthStatusRequest;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.RoleDeleteRequest;
import io.capstan.raft.proto.RoleGetRequest;
import io.capstan.raft.proto.RoleListRequest;
import io.capstan.raft.proto.RoleRevokePermissionRequest;
import io.capstan.raft.proto.UserChangePasswordRequest;
import io.capstan.raft.proto.UserDeleteRequest;
import io.capstan.raft.proto.UserGetRequest;
import io.capstan.raft.proto.UserListRequest;
import io.capstan.raft.proto.UserRevokeRoleRequest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The replicated auth state: its commands, etcd's rules and errors, and the checks at apply. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthKeyspaceTest {

    private final Keyspace ks = new Keyspace();

    private CommandResult ok(Command command) {
        CommandResult result = ks.apply(command);
        assertFalse(result.hasFailure(), () -> "refused: " + result.getFailure());
        return result;
    }

    private Failure.Code refused(Command command) {
        CommandResult result = ks.apply(command);
        assertTrue(result.hasFailure(), () -> "applied: " + result);
        return result.getFailure().getCode();
    }

    private static Command disable() {
        return Command.newBuilder().setAuthDisable(AuthDisableRequest.getDefaultInstance()).build();
    }

    /** root (root role), app (readwrite on app/), reader (read on app/); auth on. */
    private void usersAndEnable() {
        ok(userAdd("root"));
        ok(grantRole("root", "root"));
        ok(roleAdd("app"));
        ok(grantPermission("app", AuthPermission.Type.READWRITE, "app/", "app0"));
        ok(roleAdd("reader"));
        ok(grantPermission("reader", AuthPermission.Type.READ, "app/", "app0"));
        ok(userAdd("app"));
        ok(grantRole("app", "app"));
        ok(userAdd("reader"));
        ok(grantRole("reader", "reader"));
        ok(enableAuth());
    }

    @Test
    void enablingNeedsARootUserHoldingTheBuiltInRootRole() {
        assertEquals(Failure.Code.ROOT_USER_MISSING, refused(enableAuth()));
        ok(userAdd("root"));
        assertEquals(Failure.Code.ROOT_ROLE_NOT_GRANTED, refused(enableAuth()));
        // Granted without being created, and not listed.
        ok(grantRole("root", "root"));
        ok(roleAdd("root"));
        CommandResult enabled = ok(enableAuth());
        assertTrue(ks.store.auth().enabled());
        assertEquals(ks.store.auth().revision(), enabled.getAuthChange().getAuthRevision());
        assertEquals(
                List.of(),
                AuthQueries.answer(ks.store.auth(), null, listRoles()).getRoleList().getRolesList());
        // Auth commands change no key.
        assertEquals(MvccStore.EMPTY_REVISION, ks.store.revision());
    }

    @Test
    void withAuthOnEveryClientCommandIsCheckedAtApply() {
        usersAndEnable();
        Caller app = callerOf(ks.store.auth(), "app");
        Caller reader = callerOf(ks.store.auth(), "reader");
        Caller nobody = Caller.getDefaultInstance();

        assertEquals(Failure.Code.USER_EMPTY, refused(as(nobody, Ops.put("app/x", "1"))));
        ok(as(app, Ops.put("app/x", "1")));
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, Ops.put("other", "1"))));
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(reader, Ops.put("app/y", "1"))));
        // Internal commands carry no caller and are not checked.
        ok(Ops.put("other", "1"));

        // A range must be covered whole.
        assertEquals(
                Failure.Code.PERMISSION_DENIED,
                refused(as(app, Ops.delete(Ops.deleteReq("app/", "b")))));
        ok(as(app, Ops.delete(Ops.deleteReq("app/", "app0"))));

        // A transaction needs its compares and both branches.
        Command readsOutside =
                Ops.txn(
                        List.of(Ops.compare("other", io.capstan.raft.proto.Compare.CompareResult.EQUAL)
                                .setVersion(1)
                                .build()),
                        List.of(Ops.op(putReq("app/a", "1"))),
                        List.of());
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, readsOutside)));
        Command writesOutsideOnFailure =
                Ops.txn(List.of(), List.of(Ops.op(putReq("app/a", "1"))), List.of(Ops.op(putReq("x", "1"))));
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, writesOutsideOnFailure)));
        Command inside =
                Ops.txn(
                        List.of(),
                        List.of(Ops.op(putReq("app/a", "1")), Ops.op(rangeReq("app/", "app0"))),
                        List.of());
        ok(as(app, inside));

        // Revoking a lease needs WRITE on each key attached to it.
        ok(as(app, Ops.grant(7, 60)));
        ok(Ops.put(putReq("outside", "1").toBuilder().setLease(7).build()));
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, Ops.revoke(7))));
        ok(as(callerOf(ks.store.auth(), "root"), Ops.revoke(7)));

        // Administration needs root.
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, roleAdd("more"))));
        ok(as(callerOf(ks.store.auth(), "root"), roleAdd("more")));
    }

    @Test
    void aChangeOfPermissionsHoldsFromTheNextCommand() {
        usersAndEnable();
        Caller app = callerOf(ks.store.auth(), "app");
        ok(as(app, Ops.put("app/x", "1")));
        ok(
                Command.newBuilder()
                        .setRoleRevokePermission(
                                RoleRevokePermissionRequest.newBuilder()
                                        .setRole("app")
                                        .setKey(bytes("app/"))
                                        .setRangeEnd(bytes("app0")))
                        .build());
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, Ops.put("app/x", "2"))));
        // Every key from "" on: etcdctl's grant on every key.
        ok(grantPermission("app", AuthPermission.Type.WRITE, "", "\0"));
        ok(as(app, Ops.put("anything", "2")));
    }

    @Test
    void aNewPasswordOrADeletedUserInvalidatesEarlierTokens() {
        usersAndEnable();
        Caller app = callerOf(ks.store.auth(), "app");
        ok(
                Command.newBuilder()
                        .setUserChangePassword(
                                UserChangePasswordRequest.newBuilder().setName("app").setPasswordHash(Ops.PASSWORD_HASH))
                        .build());
        assertEquals(Failure.Code.INVALID_TOKEN, refused(as(app, Ops.put("app/x", "1"))));
        ok(as(callerOf(ks.store.auth(), "app"), Ops.put("app/x", "1")));
        Caller current = callerOf(ks.store.auth(), "app");
        ok(Command.newBuilder().setUserDelete(UserDeleteRequest.newBuilder().setName("app")).build());
        assertEquals(Failure.Code.INVALID_TOKEN, refused(as(current, Ops.put("app/x", "1"))));
    }

    @Test
    void etcdsErrorsForUsersAndRoles() {
        assertEquals(Failure.Code.USER_EMPTY, refused(userAdd("")));
        assertEquals(Failure.Code.ROLE_EMPTY, refused(roleAdd("")));
        usersAndEnable();
        assertEquals(Failure.Code.USER_EXISTS, refused(userAdd("app")));
        assertEquals(Failure.Code.ROLE_EXISTS, refused(roleAdd("app")));
        assertEquals(Failure.Code.USER_NOT_FOUND, refused(grantRole("ghost", "app")));
        assertEquals(Failure.Code.ROLE_NOT_FOUND, refused(grantRole("app", "ghost")));
        assertEquals(
                Failure.Code.ROLE_NOT_GRANTED,
                refused(
                        Command.newBuilder()
                                .setUserRevokeRole(
                                        UserRevokeRoleRequest.newBuilder().setName("app").setRole("reader"))
                                .build()));
        assertEquals(
                Failure.Code.PERMISSION_NOT_GRANTED,
                refused(
                        Command.newBuilder()
                                .setRoleRevokePermission(
                                        RoleRevokePermissionRequest.newBuilder()
                                                .setRole("app")
                                                .setKey(bytes("nope")))
                                .build()));
        assertEquals(
                Failure.Code.INVALID_AUTH_MANAGEMENT,
                refused(Command.newBuilder().setUserDelete(UserDeleteRequest.newBuilder().setName("root")).build()));
        assertEquals(
                Failure.Code.INVALID_AUTH_MANAGEMENT,
                refused(
                        Command.newBuilder()
                                .setUserRevokeRole(
                                        UserRevokeRoleRequest.newBuilder().setName("root").setRole("root"))
                                .build()));
        assertEquals(
                Failure.Code.INVALID_AUTH_MANAGEMENT,
                refused(Command.newBuilder().setRoleDelete(RoleDeleteRequest.newBuilder().setRole("root")).build()));
        // Deleting a role takes it from its users.
        ok(Command.newBuilder().setRoleDelete(RoleDeleteRequest.newBuilder().setRole("app")).build());
        assertEquals(List.of(), ks.store.auth().user("app").orElseThrow().getRolesList());
        ok(disable());
        assertFalse(ks.store.auth().enabled());
    }

    @Test
    void queriesNeedRootButAUserMayReadItselfAndItsRoles() {
        usersAndEnable();
        AuthState auth = ks.store.auth();
        Caller app = callerOf(ks.store.auth(), "app");
        KeyspaceException denied =
                assertThrows(KeyspaceException.class, () -> AuthQueries.answer(auth, app, listRoles()));
        assertEquals(Failure.Code.PERMISSION_DENIED, denied.code());
        assertEquals(
                List.of("app"),
                AuthQueries.answer(auth, app, Query.newBuilder().setUserGet(UserGetRequest.newBuilder().setName("app")).build())
                        .getUserGet()
                        .getRolesList());
        assertEquals(
                1,
                AuthQueries.answer(auth, app, Query.newBuilder().setRoleGet(RoleGetRequest.newBuilder().setRole("app")).build())
                        .getRoleGet()
                        .getPermCount());
        assertThrows(
                KeyspaceException.class,
                () -> AuthQueries.answer(auth, app, Query.newBuilder().setUserGet(UserGetRequest.newBuilder().setName("root")).build()));
        Caller root = callerOf(ks.store.auth(), "root");
        assertEquals(
                List.of("app", "reader", "root"),
                AuthQueries.answer(auth, root, Query.newBuilder().setUserList(UserListRequest.getDefaultInstance()).build())
                        .getUserList()
                        .getUsersList());
        assertTrue(
                AuthQueries.answer(auth, root, Query.newBuilder().setAuthStatus(AuthStatusRequest.getDefaultInstance()).build())
                        .getAuthStatus()
                        .getEnabled());
        KeyspaceException missing =
                assertThrows(
                        KeyspaceException.class,
                        () -> AuthQueries.answer(auth, root, Query.newBuilder().setRoleGet(RoleGetRequest.newBuilder().setRole("ghost")).build()));
        assertEquals(Failure.Code.ROLE_NOT_FOUND, missing.code());
    }

    @Test
    void snapshotsAndDigestsCarryTheAuthState() throws IOException {
        usersAndEnable();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(ks.store, out);
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(ks.store.digestNow(), restored.digestNow());
        assertTrue(restored.auth().enabled());
        assertEquals(ks.store.auth().toSnapshot(), restored.auth().toSnapshot());

        String before = ks.store.digestNow();
        ok(roleAdd("another"));
        assertNotEquals(before, ks.store.digestNow());
    }

    @Test
    void keyIntervalsCoverThroughTheirUnion() {
        KeyInterval ab = KeyInterval.of(bytes("a"), bytes("b"));
        KeyInterval bc = KeyInterval.of(bytes("b"), bytes("c"));
        assertTrue(KeyInterval.of(bytes("a"), bytes("c")).coveredBy(List.of(bc, ab)));
        assertFalse(KeyInterval.of(bytes("a"), bytes("d")).coveredBy(List.of(ab, bc)));
        assertTrue(KeyInterval.of(bytes("b1"), ByteString.EMPTY).coveredBy(List.of(bc)));
        assertFalse(KeyInterval.of(bytes("c"), ByteString.EMPTY).coveredBy(List.of(bc)));
        assertFalse(KeyInterval.of(bytes("a"), MvccStore.FROM_KEY).coveredBy(List.of(ab, bc)));
        assertTrue(
                KeyInterval.of(bytes("a"), MvccStore.FROM_KEY)
                        .coveredBy(List.of(KeyInterval.of(bytes("a"), MvccStore.FROM_KEY))));
        assertTrue(KeyInterval.of(bytes("zz"), ByteString.EMPTY)
                .coveredBy(List.of(KeyInterval.of(ByteString.EMPTY, MvccStore.FROM_KEY))));
        assertFalse(KeyInterval.of(bytes("a"), ByteString.EMPTY).coveredBy(List.of()));
    }

    private static Query listRoles() {
        return Query.newBuilder().setRoleList(RoleListRequest.getDefaultInstance()).build();
    }
}
