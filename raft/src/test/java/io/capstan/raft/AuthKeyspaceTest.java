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
import io.capstan.raft.proto.RoleGetResponse;
import io.capstan.raft.proto.RoleListRequest;
import io.capstan.raft.proto.RoleRevokePermissionRequest;
import io.capstan.raft.proto.UserChangePasswordRequest;
import io.capstan.raft.proto.UserDeleteRequest;
import io.capstan.raft.proto.UserGetRequest;
import io.capstan.raft.proto.UserListRequest;
import io.capstan.raft.proto.UserRevokeRoleRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
        // Granted without having been added, so not listed.
        ok(grantRole("root", "root"));
        CommandResult enabled = ok(enableAuth());
        assertTrue(ks.store.auth().enabled());
        assertEquals(ks.store.auth().revision(), enabled.getAuthChange().getAuthRevision());
        assertEquals(
                List.of(),
                AuthQueries.answer(ks.store.auth(), null, listRoles())
                        .getRoleList()
                        .getRolesList());
        // Auth commands change no key.
        assertEquals(MvccStore.EMPTY_REVISION, ks.store.revision());
    }

    /** etcd 3.4's root role, as a real etcd 3.4.23 answers etcdctl. */
    @Test
    void theRootRoleExistsOnceAddedAsInEtcd() {
        ok(userAdd("root"));
        assertEquals(Failure.Code.ROLE_NOT_FOUND, refusedQuery(roleGet("root")));
        assertEquals(
                Failure.Code.ROLE_NOT_FOUND,
                refused(grantPermission("root", AuthPermission.Type.READ, "a", "")));
        assertEquals(Failure.Code.ROLE_NOT_FOUND, refused(revokePermission("root", "a")));
        assertEquals(Failure.Code.ROLE_NOT_FOUND, refused(roleDelete("root")));
        ok(grantRole("root", "root"));
        assertEquals(List.of(), roleNames());

        long before = ks.store.auth().revision();
        ok(roleAdd("root"));
        assertTrue(ks.store.auth().revision() > before);
        assertEquals(Failure.Code.ROLE_EXISTS, refused(roleAdd("root")));
        ok(roleAdd("userRole"));
        assertEquals(List.of("root", "userRole"), roleNames());
        assertEquals(0, roleGetAnswer("root").getPermCount());

        // Its permissions are stored and shown; its holders may do anything all the same.
        ok(grantPermission("root", AuthPermission.Type.READ, "zzz", ""));
        assertEquals(1, roleGetAnswer("root").getPermCount());
        ok(userAdd("admin"));
        ok(grantRole("admin", "root"));
        ok(enableAuth());
        ok(as(callerOf(ks.store.auth(), "admin"), Ops.put("anything", "1")));
        ok(as(callerOf(ks.store.auth(), "root"), revokePermission("root", "zzz")));
        assertEquals(0, roleGetAnswer("root").getPermCount());
        assertEquals(
                Failure.Code.PERMISSION_NOT_GRANTED,
                refused(as(callerOf(ks.store.auth(), "root"), revokePermission("root", "zzz"))));

        // Not deleted while auth is on; while off, deleting takes it from every user.
        assertEquals(Failure.Code.INVALID_AUTH_MANAGEMENT, refused(roleDelete("root")));
        ok(as(callerOf(ks.store.auth(), "root"), disable()));
        ok(roleDelete("root"));
        assertEquals(List.of("userRole"), roleNames());
        assertEquals(List.of(), ks.store.auth().user("root").orElseThrow().getRolesList());
        assertEquals(List.of(), ks.store.auth().user("admin").orElseThrow().getRolesList());
        assertEquals(Failure.Code.ROOT_ROLE_NOT_GRANTED, refused(enableAuth()));
    }

    @Test
    void anAddedRootRoleIsInSnapshotsAndDigests() throws IOException {
        ok(userAdd("root"));
        ok(grantRole("root", "root"));
        String granted = ks.store.digestNow();
        ok(roleAdd("root"));
        assertNotEquals(granted, ks.store.digestNow());
        ok(grantPermission("root", AuthPermission.Type.WRITE, "w/", "w0"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(ks.store, out);
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(ks.store.digestNow(), restored.digestNow());
        assertEquals(
                List.of("root"),
                AuthQueries.answer(restored.auth(), null, listRoles())
                        .getRoleList()
                        .getRolesList());
        assertEquals(
                1,
                AuthQueries.answer(restored.auth(), null, roleGet("root"))
                        .getRoleGet()
                        .getPermCount());
    }

    private List<String> roleNames() {
        return AuthQueries.answer(ks.store.auth(), null, listRoles()).getRoleList().getRolesList();
    }

    private RoleGetResponse roleGetAnswer(String role) {
        return AuthQueries.answer(ks.store.auth(), null, roleGet(role)).getRoleGet();
    }

    private Failure.Code refusedQuery(Query query) {
        return assertThrows(
                        KeyspaceException.class,
                        () -> AuthQueries.answer(ks.store.auth(), null, query))
                .code();
    }

    private static Query roleGet(String role) {
        return Query.newBuilder().setRoleGet(RoleGetRequest.newBuilder().setRole(role)).build();
    }

    private static Command roleDelete(String role) {
        return Command.newBuilder()
                .setRoleDelete(RoleDeleteRequest.newBuilder().setRole(role))
                .build();
    }

    private static Command revokePermission(String role, String key) {
        return Command.newBuilder()
                .setRoleRevokePermission(
                        RoleRevokePermissionRequest.newBuilder().setRole(role).setKey(bytes(key)))
                .build();
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
                        List.of(
                                Ops.compare(
                                                "other",
                                                io.capstan.raft.proto.Compare.CompareResult.EQUAL)
                                        .setVersion(1)
                                        .build()),
                        List.of(Ops.op(putReq("app/a", "1"))),
                        List.of());
        assertEquals(Failure.Code.PERMISSION_DENIED, refused(as(app, readsOutside)));
        Command writesOutsideOnFailure =
                Ops.txn(
                        List.of(),
                        List.of(Ops.op(putReq("app/a", "1"))),
                        List.of(Ops.op(putReq("x", "1"))));
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
                                UserChangePasswordRequest.newBuilder()
                                        .setName("app")
                                        .setPasswordHash(Ops.PASSWORD_HASH))
                        .build());
        assertEquals(Failure.Code.INVALID_TOKEN, refused(as(app, Ops.put("app/x", "1"))));
        ok(as(callerOf(ks.store.auth(), "app"), Ops.put("app/x", "1")));
        Caller current = callerOf(ks.store.auth(), "app");
        ok(
                Command.newBuilder()
                        .setUserDelete(UserDeleteRequest.newBuilder().setName("app"))
                        .build());
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
                                        UserRevokeRoleRequest.newBuilder()
                                                .setName("app")
                                                .setRole("reader"))
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
                refused(
                        Command.newBuilder()
                                .setUserDelete(UserDeleteRequest.newBuilder().setName("root"))
                                .build()));
        assertEquals(
                Failure.Code.INVALID_AUTH_MANAGEMENT,
                refused(
                        Command.newBuilder()
                                .setUserRevokeRole(
                                        UserRevokeRoleRequest.newBuilder()
                                                .setName("root")
                                                .setRole("root"))
                                .build()));
        assertEquals(
                Failure.Code.INVALID_AUTH_MANAGEMENT,
                refused(
                        Command.newBuilder()
                                .setRoleDelete(RoleDeleteRequest.newBuilder().setRole("root"))
                                .build()));
        // Deleting a role takes it from its users.
        ok(
                Command.newBuilder()
                        .setRoleDelete(RoleDeleteRequest.newBuilder().setRole("app"))
                        .build());
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
                assertThrows(
                        KeyspaceException.class, () -> AuthQueries.answer(auth, app, listRoles()));
        assertEquals(Failure.Code.PERMISSION_DENIED, denied.code());
        assertEquals(
                List.of("app"),
                AuthQueries.answer(
                                auth,
                                app,
                                Query.newBuilder()
                                        .setUserGet(UserGetRequest.newBuilder().setName("app"))
                                        .build())
                        .getUserGet()
                        .getRolesList());
        assertEquals(
                1,
                AuthQueries.answer(
                                auth,
                                app,
                                Query.newBuilder()
                                        .setRoleGet(RoleGetRequest.newBuilder().setRole("app"))
                                        .build())
                        .getRoleGet()
                        .getPermCount());
        assertThrows(
                KeyspaceException.class,
                () ->
                        AuthQueries.answer(
                                auth,
                                app,
                                Query.newBuilder()
                                        .setUserGet(UserGetRequest.newBuilder().setName("root"))
                                        .build()));
        Caller root = callerOf(ks.store.auth(), "root");
        assertEquals(
                List.of("app", "reader", "root"),
                AuthQueries.answer(
                                auth,
                                root,
                                Query.newBuilder()
                                        .setUserList(UserListRequest.getDefaultInstance())
                                        .build())
                        .getUserList()
                        .getUsersList());
        assertTrue(
                AuthQueries.answer(
                                auth,
                                root,
                                Query.newBuilder()
                                        .setAuthStatus(AuthStatusRequest.getDefaultInstance())
                                        .build())
                        .getAuthStatus()
                        .getEnabled());
        KeyspaceException missing =
                assertThrows(
                        KeyspaceException.class,
                        () ->
                                AuthQueries.answer(
                                        auth,
                                        root,
                                        Query.newBuilder()
                                                .setRoleGet(
                                                        RoleGetRequest.newBuilder()
                                                                .setRole("ghost"))
                                                .build()));
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
        assertTrue(
                KeyInterval.of(bytes("zz"), ByteString.EMPTY)
                        .coveredBy(List.of(KeyInterval.of(ByteString.EMPTY, MvccStore.FROM_KEY))));
        assertFalse(KeyInterval.of(bytes("a"), ByteString.EMPTY).coveredBy(List.of()));
    }

    private static Query listRoles() {
        return Query.newBuilder().setRoleList(RoleListRequest.getDefaultInstance()).build();
    }
}
