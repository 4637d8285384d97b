package io.capstan.etcd;

import com.google.common.cache.CacheBuilder;
import com.google.common.cache.CacheLoader;
import com.google.common.cache.LoadingCache;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.AuthDisableRequest;
import io.capstan.etcd.api.AuthDisableResponse;
import io.capstan.etcd.api.AuthEnableRequest;
import io.capstan.etcd.api.AuthEnableResponse;
import io.capstan.etcd.api.AuthRoleAddRequest;
import io.capstan.etcd.api.AuthRoleAddResponse;
import io.capstan.etcd.api.AuthRoleDeleteRequest;
import io.capstan.etcd.api.AuthRoleDeleteResponse;
import io.capstan.etcd.api.AuthRoleGetRequest;
import io.capstan.etcd.api.AuthRoleGetResponse;
import io.capstan.etcd.api.AuthRoleGrantPermissionRequest;
import io.capstan.etcd.api.AuthRoleGrantPermissionResponse;
import io.capstan.etcd.api.AuthRoleListRequest;
import io.capstan.etcd.api.AuthRoleListResponse;
import io.capstan.etcd.api.AuthRoleRevokePermissionRequest;
import io.capstan.etcd.api.AuthRoleRevokePermissionResponse;
import io.capstan.etcd.api.AuthStatusRequest;
import io.capstan.etcd.api.AuthStatusResponse;
import io.capstan.etcd.api.AuthUserAddRequest;
import io.capstan.etcd.api.AuthUserAddResponse;
import io.capstan.etcd.api.AuthUserChangePasswordRequest;
import io.capstan.etcd.api.AuthUserChangePasswordResponse;
import io.capstan.etcd.api.AuthUserDeleteRequest;
import io.capstan.etcd.api.AuthUserDeleteResponse;
import io.capstan.etcd.api.AuthUserGetRequest;
import io.capstan.etcd.api.AuthUserGetResponse;
import io.capstan.etcd.api.AuthUserGrantRoleRequest;
import io.capstan.etcd.api.AuthUserGrantRoleResponse;
import io.capstan.etcd.api.AuthUserListRequest;
import io.capstan.etcd.api.AuthUserListResponse;
import io.capstan.etcd.api.AuthUserRevokeRoleRequest;
import io.capstan.etcd.api.AuthUserRevokeRoleResponse;
import io.capstan.etcd.api.AuthenticateRequest;
import io.capstan.etcd.api.AuthenticateResponse;
import io.capstan.etcd.api.auth.Permission;
import io.capstan.raft.AuthState;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.AuthUser;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RoleAddRequest;
import io.capstan.raft.proto.RoleDeleteRequest;
import io.capstan.raft.proto.RoleGetRequest;
import io.capstan.raft.proto.RoleGrantPermissionRequest;
import io.capstan.raft.proto.RoleListRequest;
import io.capstan.raft.proto.RoleRevokePermissionRequest;
import io.capstan.raft.proto.UserAddRequest;
import io.capstan.raft.proto.UserChangePasswordRequest;
import io.capstan.raft.proto.UserDeleteRequest;
import io.capstan.raft.proto.UserGetRequest;
import io.capstan.raft.proto.UserGrantRoleRequest;
import io.capstan.raft.proto.UserListRequest;
import io.capstan.raft.proto.UserRevokeRoleRequest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * etcd's Auth calls. Every change (enable, disable, users, roles, permissions) is a command through
 * the Raft log, checked and applied by the replicated auth state ({@link AuthState}); the reads go
 * through ReadIndex, so they see every change committed before them. Passwords are hashed here with
 * bcrypt before proposing ({@link Passwords}): no clear password leaves this member, none is
 * logged.
 *
 * <p>Authenticate reads the auth state through ReadIndex, checks the password against the user's
 * hash (a user that does not exist costs the same time), and signs a token ({@link AuthTokens}).
 * Each client address may try {@link AuthSettings#authenticatePerSecond()} times a second, with a
 * burst of as many (etcdctl tries each endpoint in turn when a login fails); more tries are refused
 * with {@code etcdserver: too many requests}, so a password guesser is held to that pace.
 *
 * <p>Threads: calls run on the API executor. The rate limiters are a bounded Guava cache, safe on
 * any thread, of buckets each guarded by its own lock; everything else is immutable.
 */
final class AuthOperations {
    private static final int TOKEN_KEY_BYTES = 32;
    private static final int MAX_LIMITED_ADDRESSES = 10_000;

    private final RaftCalls raft;
    private final Passwords passwords;
    private final AuthTokens tokens;
    private final SecureRandom random = new SecureRandom();
    private final LoadingCache<String, LoginBucket> limiters;

    AuthOperations(
            RaftCalls raft, Passwords passwords, AuthTokens tokens, double authenticatePerSecond) {
        this.raft = raft;
        this.passwords = passwords;
        this.tokens = tokens;
        this.limiters =
                CacheBuilder.newBuilder()
                        .maximumSize(MAX_LIMITED_ADDRESSES)
                        .expireAfterAccess(Duration.ofMinutes(10))
                        .build(
                                CacheLoader.from(
                                        address ->
                                                new LoginBucket(
                                                        authenticatePerSecond, System.nanoTime())));
    }

    /** Turns auth on with a new token key, so tokens of an earlier enabling no longer verify. */
    CompletableFuture<AuthEnableResponse> enable(AuthEnableRequest request) {
        byte[] key = new byte[TOKEN_KEY_BYTES];
        random.nextBytes(key);
        Command command =
                Command.newBuilder()
                        .setAuthEnable(
                                io.capstan.raft.proto.AuthEnableRequest.newBuilder()
                                        .setTokenKey(ByteString.copyFrom(key)))
                        .build();
        return change(command, r -> AuthEnableResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthDisableResponse> disable(AuthDisableRequest request) {
        Command command =
                Command.newBuilder()
                        .setAuthDisable(
                                io.capstan.raft.proto.AuthDisableRequest.getDefaultInstance())
                        .build();
        return change(command, r -> AuthDisableResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthStatusResponse> status(AuthStatusRequest request) {
        Query query =
                Query.newBuilder()
                        .setAuthStatus(io.capstan.raft.proto.AuthStatusRequest.getDefaultInstance())
                        .build();
        return read(
                query,
                result ->
                        AuthStatusResponse.newBuilder()
                                .setHeader(raft.header(result.getRevision()))
                                .setEnabled(result.getAuthStatus().getEnabled())
                                .setAuthRevision(result.getAuthStatus().getAuthRevision())
                                .build());
    }

    CompletableFuture<AuthenticateResponse> authenticate(AuthenticateRequest request) {
        if (!limiters.getUnchecked(Callers.remoteAddress()).take(System.nanoTime())) {
            return CompletableFuture.failedFuture(EtcdErrors.TOO_MANY_REQUESTS.toException());
        }
        return raft.call(node -> node.auth(ReadConsistency.LINEARIZABLE))
                .thenCompose(
                        state -> {
                            if (!state.enabled()) {
                                throw EtcdErrors.AUTH_NOT_ENABLED.toException();
                            }
                            AuthUser user = state.user(request.getName()).orElse(null);
                            String hash =
                                    user == null || user.getNoPassword()
                                            ? ""
                                            : user.getPasswordHash();
                            if (!passwords.matches(request.getPassword(), hash)) {
                                throw EtcdErrors.AUTH_FAILED.toException();
                            }
                            String token =
                                    tokens.issue(
                                            user.getName(),
                                            user.getPasswordRevision(),
                                            state.tokenKey());
                            return raft.currentRevision()
                                    .thenApply(
                                            revision ->
                                                    AuthenticateResponse.newBuilder()
                                                            .setHeader(raft.header(revision))
                                                            .setToken(token)
                                                            .build());
                        });
    }

    CompletableFuture<AuthUserAddResponse> userAdd(AuthUserAddRequest request) {
        return RaftCalls.guarded(
                () -> {
                    if (request.getName().isEmpty()) {
                        throw EtcdErrors.USER_EMPTY.toException();
                    }
                    boolean noPassword =
                            request.getOptions().getNoPassword()
                                    || (request.getPassword().isEmpty()
                                            && request.getHashedPassword().isEmpty());
                    Command command =
                            Command.newBuilder()
                                    .setUserAdd(
                                            UserAddRequest.newBuilder()
                                                    .setName(request.getName())
                                                    .setNoPassword(noPassword)
                                                    .setPasswordHash(
                                                            noPassword
                                                                    ? ""
                                                                    : hashOf(
                                                                            request.getPassword(),
                                                                            request
                                                                                    .getHashedPassword())))
                                    .build();
                    return change(
                            command, r -> AuthUserAddResponse.newBuilder().setHeader(r).build());
                });
    }

    CompletableFuture<AuthUserGetResponse> userGet(AuthUserGetRequest request) {
        Query query =
                Query.newBuilder()
                        .setUserGet(UserGetRequest.newBuilder().setName(request.getName()))
                        .build();
        return read(
                query,
                result ->
                        AuthUserGetResponse.newBuilder()
                                .setHeader(raft.header(result.getRevision()))
                                .addAllRoles(result.getUserGet().getRolesList())
                                .build());
    }

    CompletableFuture<AuthUserListResponse> userList(AuthUserListRequest request) {
        Query query = Query.newBuilder().setUserList(UserListRequest.getDefaultInstance()).build();
        return read(
                query,
                result ->
                        AuthUserListResponse.newBuilder()
                                .setHeader(raft.header(result.getRevision()))
                                .addAllUsers(result.getUserList().getUsersList())
                                .build());
    }

    CompletableFuture<AuthUserDeleteResponse> userDelete(AuthUserDeleteRequest request) {
        Command command =
                Command.newBuilder()
                        .setUserDelete(UserDeleteRequest.newBuilder().setName(request.getName()))
                        .build();
        return change(command, r -> AuthUserDeleteResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthUserChangePasswordResponse> userChangePassword(
            AuthUserChangePasswordRequest request) {
        return RaftCalls.guarded(
                () -> {
                    Command command =
                            Command.newBuilder()
                                    .setUserChangePassword(
                                            UserChangePasswordRequest.newBuilder()
                                                    .setName(request.getName())
                                                    .setPasswordHash(
                                                            hashOf(
                                                                    request.getPassword(),
                                                                    request.getHashedPassword())))
                                    .build();
                    return change(
                            command,
                            r -> AuthUserChangePasswordResponse.newBuilder().setHeader(r).build());
                });
    }

    CompletableFuture<AuthUserGrantRoleResponse> userGrantRole(AuthUserGrantRoleRequest request) {
        Command command =
                Command.newBuilder()
                        .setUserGrantRole(
                                UserGrantRoleRequest.newBuilder()
                                        .setUser(request.getUser())
                                        .setRole(request.getRole()))
                        .build();
        return change(command, r -> AuthUserGrantRoleResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthUserRevokeRoleResponse> userRevokeRole(
            AuthUserRevokeRoleRequest request) {
        Command command =
                Command.newBuilder()
                        .setUserRevokeRole(
                                UserRevokeRoleRequest.newBuilder()
                                        .setName(request.getName())
                                        .setRole(request.getRole()))
                        .build();
        return change(command, r -> AuthUserRevokeRoleResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthRoleAddResponse> roleAdd(AuthRoleAddRequest request) {
        Command command =
                Command.newBuilder()
                        .setRoleAdd(RoleAddRequest.newBuilder().setName(request.getName()))
                        .build();
        return change(command, r -> AuthRoleAddResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthRoleGetResponse> roleGet(AuthRoleGetRequest request) {
        Query query =
                Query.newBuilder()
                        .setRoleGet(RoleGetRequest.newBuilder().setRole(request.getRole()))
                        .build();
        return read(
                query,
                result -> {
                    AuthRoleGetResponse.Builder response =
                            AuthRoleGetResponse.newBuilder()
                                    .setHeader(raft.header(result.getRevision()));
                    for (AuthPermission perm : result.getRoleGet().getPermList()) {
                        response.addPerm(
                                Permission.newBuilder()
                                        .setPermTypeValue(perm.getPermTypeValue())
                                        .setKey(perm.getKey())
                                        .setRangeEnd(perm.getRangeEnd()));
                    }
                    return response.build();
                });
    }

    CompletableFuture<AuthRoleListResponse> roleList(AuthRoleListRequest request) {
        Query query = Query.newBuilder().setRoleList(RoleListRequest.getDefaultInstance()).build();
        return read(
                query,
                result ->
                        AuthRoleListResponse.newBuilder()
                                .setHeader(raft.header(result.getRevision()))
                                .addAllRoles(result.getRoleList().getRolesList())
                                .build());
    }

    CompletableFuture<AuthRoleDeleteResponse> roleDelete(AuthRoleDeleteRequest request) {
        Command command =
                Command.newBuilder()
                        .setRoleDelete(RoleDeleteRequest.newBuilder().setRole(request.getRole()))
                        .build();
        return change(command, r -> AuthRoleDeleteResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthRoleGrantPermissionResponse> roleGrantPermission(
            AuthRoleGrantPermissionRequest request) {
        if (!request.hasPerm()) {
            return CompletableFuture.failedFuture(EtcdErrors.PERMISSION_NOT_GIVEN.toException());
        }
        Permission perm = request.getPerm();
        Command command =
                Command.newBuilder()
                        .setRoleGrantPermission(
                                RoleGrantPermissionRequest.newBuilder()
                                        .setName(request.getName())
                                        .setPerm(
                                                AuthPermission.newBuilder()
                                                        .setPermTypeValue(perm.getPermTypeValue())
                                                        .setKey(perm.getKey())
                                                        .setRangeEnd(perm.getRangeEnd())))
                        .build();
        return change(
                command, r -> AuthRoleGrantPermissionResponse.newBuilder().setHeader(r).build());
    }

    CompletableFuture<AuthRoleRevokePermissionResponse> roleRevokePermission(
            AuthRoleRevokePermissionRequest request) {
        Command command =
                Command.newBuilder()
                        .setRoleRevokePermission(
                                RoleRevokePermissionRequest.newBuilder()
                                        .setRole(request.getRole())
                                        .setKey(request.getKey())
                                        .setRangeEnd(request.getRangeEnd()))
                        .build();
        return change(
                command, r -> AuthRoleRevokePermissionResponse.newBuilder().setHeader(r).build());
    }

    /**
     * A token bucket for one client address: starts full with a burst of {@code perSecond} tries
     * (at least one) and refills at that rate. Guarded by its own lock.
     */
    private static final class LoginBucket {
        private final double perSecond;
        private final double capacity;
        private double tokens;
        private long refilledAt;

        LoginBucket(double perSecond, long nowNanos) {
            this.perSecond = perSecond;
            this.capacity = Math.max(1, perSecond);
            this.tokens = capacity;
            this.refilledAt = nowNanos;
        }

        synchronized boolean take(long nowNanos) {
            tokens = Math.min(capacity, tokens + (nowNanos - refilledAt) * perSecond / 1e9);
            refilledAt = nowNanos;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }

    /**
     * A client's own bcrypt hash (etcd's {@code hashedPassword}) as given, else a new hash of the
     * password.
     */
    private String hashOf(String password, String hashedPassword) {
        if (!hashedPassword.isEmpty()) {
            if (!Passwords.isHash(hashedPassword)) {
                throw EtcdErrors.invalid("hashedPassword is not a bcrypt hash").toException();
            }
            return hashedPassword;
        }
        return passwords.hash(password);
    }

    private <R> CompletableFuture<R> change(
            Command command, Function<io.capstan.etcd.api.ResponseHeader, R> response) {
        return raft.propose(command)
                .thenApply(
                        (CommandResult result) ->
                                response.apply(raft.header(result.getRevision())));
    }

    private <R> CompletableFuture<R> read(Query query, Function<QueryResult, R> response) {
        return raft.query(query, ReadConsistency.LINEARIZABLE).thenApply(response);
    }
}
