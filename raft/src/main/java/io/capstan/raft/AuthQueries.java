package io.capstan.raft;

import io.capstan.raft.proto.AuthStatusResponse;
import io.capstan.raft.proto.AuthUser;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.RoleGetResponse;
import io.capstan.raft.proto.RoleListResponse;
import io.capstan.raft.proto.UserGetResponse;
import io.capstan.raft.proto.UserListResponse;

/**
 * Answers the auth queries from one {@link AuthState}, with etcd's access rules: with auth on,
 * status and lists need root; a user may read itself and the roles it holds. Stateless.
 */
final class AuthQueries {
    private AuthQueries() {}

    /**
     * @param caller null for the cluster's own queries, which are not checked
     * @throws KeyspaceException when refused or when the user or role does not exist
     */
    static QueryResult.Builder answer(AuthState auth, Caller caller, Query query) {
        AuthUser asker = caller == null ? null : auth.authenticated(caller);
        QueryResult.Builder result = QueryResult.newBuilder();
        switch (query.getQueryCase()) {
            case AUTH_STATUS -> {
                requireRoot(asker);
                result.setAuthStatus(
                        AuthStatusResponse.newBuilder()
                                .setEnabled(auth.enabled())
                                .setAuthRevision(auth.revision()));
            }
            case USER_LIST -> {
                requireRoot(asker);
                result.setUserList(UserListResponse.newBuilder().addAllUsers(auth.userNames()));
            }
            case ROLE_LIST -> {
                requireRoot(asker);
                result.setRoleList(RoleListResponse.newBuilder().addAllRoles(auth.roleNames()));
            }
            case USER_GET -> {
                String name = query.getUserGet().getName();
                if (asker != null && !AuthState.isRoot(asker) && !asker.getName().equals(name)) {
                    throw AuthState.denied();
                }
                result.setUserGet(
                        UserGetResponse.newBuilder()
                                .addAllRoles(auth.requireUser(name).getRolesList()));
            }
            case ROLE_GET -> {
                String role = query.getRoleGet().getRole();
                if (asker != null
                        && !AuthState.isRoot(asker)
                        && !asker.getRolesList().contains(role)) {
                    throw AuthState.denied();
                }
                result.setRoleGet(
                        RoleGetResponse.newBuilder().addAllPerm(auth.permissionsOf(role)));
            }
            default ->
                    throw new IllegalArgumentException(
                            "not an auth query: " + query.getQueryCase());
        }
        return result;
    }

    private static void requireRoot(AuthUser asker) {
        if (asker != null && !AuthState.isRoot(asker)) {
            throw AuthState.denied();
        }
    }
}
