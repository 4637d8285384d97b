package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.AuthRole;
import io.capstan.raft.proto.AuthSnapshot;
import io.capstan.raft.proto.AuthUser;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Failure;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replicated auth state (etcd's auth store): whether auth is on, its revision, the users with
 * their password hashes and roles, the roles with their key permissions, and the key that signs
 * tokens. Immutable: the apply thread replaces it whole on each auth command ({@code with...}
 * methods return a new state), and any thread reads the one it holds.
 *
 * <p>The {@code check...} methods decide a caller's access with etcd's rules, so apply (for
 * commands), queries, and the API layer (for watches and administration) decide alike: with auth
 * off everything is allowed; otherwise a caller without a token is refused {@code USER_EMPTY}, one
 * whose token names a user that is gone or whose password changed since is refused {@code
 * INVALID_TOKEN}, a holder of the {@code root} role may do anything, and others need a permission
 * of their roles covering every key they touch.
 *
 * <p>The {@code root} role, as in etcd 3.4: a user may be granted it without it having been added,
 * and holding it is what makes a user root, whatever the role holds. {@code role add root} creates
 * it as a stored role like any other: from then on it is listed, read, given and revoked
 * permissions (which change nothing for its holders) and kept in snapshots and digests. While auth
 * is on it cannot be deleted; while off, deleting it takes it from every user, the root user
 * included.
 */
public final class AuthState {
    /** The role that may do anything; it may be granted without having been added. */
    public static final String ROOT = "root";

    static final AuthState INITIAL =
            new AuthState(false, 0, ByteString.EMPTY, new TreeMap<>(), new TreeMap<>());

    /** What a request does to the keys it names. */
    public enum Access {
        READ,
        WRITE
    }

    private final boolean enabled;
    private final long revision;
    private final ByteString tokenKey;
    private final SortedMap<String, AuthUser> users;
    private final SortedMap<String, AuthRole> roles;

    private AuthState(
            boolean enabled,
            long revision,
            ByteString tokenKey,
            SortedMap<String, AuthUser> users,
            SortedMap<String, AuthRole> roles) {
        this.enabled = enabled;
        this.revision = revision;
        this.tokenKey = tokenKey;
        this.users = Collections.unmodifiableSortedMap(users);
        this.roles = Collections.unmodifiableSortedMap(roles);
    }

    public boolean enabled() {
        return enabled;
    }

    /** Counts the auth commands that changed something; 0 on a new cluster. */
    public long revision() {
        return revision;
    }

    /**
     * The secret that signs this cluster's tokens; set by each enabling, empty before the first.
     */
    public ByteString tokenKey() {
        return tokenKey;
    }

    public Optional<AuthUser> user(String name) {
        return Optional.ofNullable(users.get(name));
    }

    /**
     * @throws KeyspaceException unless {@code caller} may do {@code access} on the range
     */
    public void checkKeys(Caller caller, Access access, ByteString key, ByteString rangeEnd) {
        AuthUser user = authenticated(caller);
        if (user != null && !isRoot(user) && !covered(user, access, key, rangeEnd)) {
            throw denied();
        }
    }

    /**
     * @throws KeyspaceException unless {@code caller} holds the root role (or auth is off)
     */
    public void checkAdmin(Caller caller) {
        AuthUser user = authenticated(caller);
        if (user != null && !isRoot(user)) {
            throw denied();
        }
    }

    /**
     * The user {@code caller} acts as, or null when auth is off.
     *
     * @throws KeyspaceException when the caller has no token or a token no longer valid
     */
    AuthUser authenticated(Caller caller) {
        if (!enabled) {
            return null;
        }
        if (caller.getUser().isEmpty()) {
            throw KeyspaceException.of(Failure.Code.USER_EMPTY, "user name is empty");
        }
        AuthUser user = users.get(caller.getUser());
        if (user == null || user.getPasswordRevision() != caller.getPasswordRevision()) {
            throw KeyspaceException.of(Failure.Code.INVALID_TOKEN, "invalid auth token");
        }
        return user;
    }

    static boolean isRoot(AuthUser user) {
        return user.getRolesList().contains(ROOT);
    }

    static KeyspaceException denied() {
        return KeyspaceException.of(Failure.Code.PERMISSION_DENIED, "permission denied");
    }

    /** Whether the union of the user's permissions of the kind {@code access} covers the range. */
    private boolean covered(AuthUser user, Access access, ByteString key, ByteString rangeEnd) {
        List<KeyInterval> granted = new ArrayList<>();
        for (String roleName : user.getRolesList()) {
            AuthRole role = roles.get(roleName);
            if (role == null) {
                continue;
            }
            for (AuthPermission permission : role.getPermissionsList()) {
                if (allows(permission.getPermType(), access)) {
                    granted.add(KeyInterval.of(permission.getKey(), permission.getRangeEnd()));
                }
            }
        }
        return KeyInterval.of(key, rangeEnd).coveredBy(granted);
    }

    private static boolean allows(AuthPermission.Type type, Access access) {
        return type == AuthPermission.Type.READWRITE
                || (type == AuthPermission.Type.READ && access == Access.READ)
                || (type == AuthPermission.Type.WRITE && access == Access.WRITE);
    }

    // What the queries answer.

    List<String> userNames() {
        return List.copyOf(users.keySet());
    }

    /** Every added role's name, {@code root} included once added, as etcd's RoleList shows them. */
    List<String> roleNames() {
        return List.copyOf(roles.keySet());
    }

    /**
     * @throws KeyspaceException when there is no such role
     */
    List<AuthPermission> permissionsOf(String roleName) {
        return requireRole(roleName).getPermissionsList();
    }

    /**
     * @throws KeyspaceException when there is no such user
     */
    AuthUser requireUser(String name) {
        if (name.isEmpty()) {
            throw KeyspaceException.of(Failure.Code.USER_EMPTY, "user name is empty");
        }
        AuthUser user = users.get(name);
        if (user == null) {
            throw KeyspaceException.of(Failure.Code.USER_NOT_FOUND, "user name not found");
        }
        return user;
    }

    private AuthRole requireRole(String name) {
        if (name.isEmpty()) {
            throw KeyspaceException.of(Failure.Code.ROLE_EMPTY, "role name is empty");
        }
        AuthRole role = roles.get(name);
        if (role == null) {
            throw KeyspaceException.of(Failure.Code.ROLE_NOT_FOUND, "role name not found");
        }
        return role;
    }

    private static KeyspaceException invalidManagement() {
        return KeyspaceException.of(
                Failure.Code.INVALID_AUTH_MANAGEMENT, "invalid auth management");
    }

    // Changes, each returning the next state; an unchanged state is returned as is.

    AuthState enable(ByteString newTokenKey) {
        if (enabled) {
            return this;
        }
        AuthUser root = users.get(ROOT);
        if (root == null) {
            throw KeyspaceException.of(Failure.Code.ROOT_USER_MISSING, "root user does not exist");
        }
        if (!isRoot(root)) {
            throw KeyspaceException.of(
                    Failure.Code.ROOT_ROLE_NOT_GRANTED, "root user does not have root role");
        }
        return new AuthState(true, revision + 1, newTokenKey, copy(users), copy(roles));
    }

    AuthState disable() {
        if (!enabled) {
            return this;
        }
        return new AuthState(false, revision + 1, tokenKey, copy(users), copy(roles));
    }

    AuthState addUser(String name, String passwordHash, boolean noPassword) {
        if (name.isEmpty()) {
            throw KeyspaceException.of(Failure.Code.USER_EMPTY, "user name is empty");
        }
        if (users.containsKey(name)) {
            throw KeyspaceException.of(Failure.Code.USER_EXISTS, "user name already exists");
        }
        boolean passwordless = noPassword || passwordHash.isEmpty();
        AuthUser user =
                AuthUser.newBuilder()
                        .setName(name)
                        .setPasswordHash(passwordless ? "" : passwordHash)
                        .setNoPassword(passwordless)
                        .setPasswordRevision(revision + 1)
                        .build();
        return withUser(user);
    }

    AuthState deleteUser(String name) {
        requireUser(name);
        if (enabled && ROOT.equals(name)) {
            throw invalidManagement();
        }
        SortedMap<String, AuthUser> next = copy(users);
        next.remove(name);
        return new AuthState(enabled, revision + 1, tokenKey, next, copy(roles));
    }

    AuthState changePassword(String name, String passwordHash) {
        AuthUser user = requireUser(name);
        return withUser(
                user.toBuilder()
                        .setPasswordHash(passwordHash)
                        .setNoPassword(passwordHash.isEmpty())
                        .setPasswordRevision(revision + 1)
                        .build());
    }

    AuthState grantRole(String userName, String roleName) {
        AuthUser user = requireUser(userName);
        if (!ROOT.equals(roleName)) {
            requireRole(roleName);
        }
        if (user.getRolesList().contains(roleName)) {
            return this;
        }
        List<String> granted = new ArrayList<>(user.getRolesList());
        granted.add(roleName);
        Collections.sort(granted);
        return withUser(user.toBuilder().clearRoles().addAllRoles(granted).build());
    }

    AuthState revokeRole(String userName, String roleName) {
        AuthUser user = requireUser(userName);
        if (!user.getRolesList().contains(roleName)) {
            throw KeyspaceException.of(
                    Failure.Code.ROLE_NOT_GRANTED, "role is not granted to the user");
        }
        if (enabled && ROOT.equals(userName) && ROOT.equals(roleName)) {
            throw invalidManagement();
        }
        List<String> kept = new ArrayList<>(user.getRolesList());
        kept.remove(roleName);
        return withUser(user.toBuilder().clearRoles().addAllRoles(kept).build());
    }

    AuthState addRole(String name) {
        if (name.isEmpty()) {
            throw KeyspaceException.of(Failure.Code.ROLE_EMPTY, "role name is empty");
        }
        if (roles.containsKey(name)) {
            throw KeyspaceException.of(Failure.Code.ROLE_EXISTS, "role name already exists");
        }
        return withRole(AuthRole.newBuilder().setName(name).build());
    }

    /**
     * Removes the role and takes it from every user that had it, as etcd does; {@code root} only
     * while auth is off.
     */
    AuthState deleteRole(String name) {
        if (enabled && ROOT.equals(name)) {
            throw invalidManagement();
        }
        requireRole(name);
        SortedMap<String, AuthRole> nextRoles = copy(roles);
        nextRoles.remove(name);
        SortedMap<String, AuthUser> nextUsers = copy(users);
        for (AuthUser user : users.values()) {
            if (user.getRolesList().contains(name)) {
                List<String> kept = new ArrayList<>(user.getRolesList());
                kept.remove(name);
                nextUsers.put(
                        user.getName(), user.toBuilder().clearRoles().addAllRoles(kept).build());
            }
        }
        return new AuthState(enabled, revision + 1, tokenKey, nextUsers, nextRoles);
    }

    /** A permission on the same key and range end as an existing one replaces it, as in etcd. */
    AuthState grantPermission(String roleName, AuthPermission permission) {
        AuthRole role = requireRole(roleName);
        List<AuthPermission> next = new ArrayList<>();
        for (AuthPermission held : role.getPermissionsList()) {
            if (!sameRange(held, permission.getKey(), permission.getRangeEnd())) {
                next.add(held);
            }
        }
        next.add(permission);
        next.sort(PERMISSION_ORDER);
        return withRole(role.toBuilder().clearPermissions().addAllPermissions(next).build());
    }

    AuthState revokePermission(String roleName, ByteString key, ByteString rangeEnd) {
        AuthRole role = requireRole(roleName);
        List<AuthPermission> kept = new ArrayList<>();
        for (AuthPermission held : role.getPermissionsList()) {
            if (!sameRange(held, key, rangeEnd)) {
                kept.add(held);
            }
        }
        if (kept.size() == role.getPermissionsCount()) {
            throw KeyspaceException.of(
                    Failure.Code.PERMISSION_NOT_GRANTED, "permission is not granted to the role");
        }
        return withRole(role.toBuilder().clearPermissions().addAllPermissions(kept).build());
    }

    private static final Comparator<AuthPermission> PERMISSION_ORDER =
            Comparator.comparing(AuthPermission::getKey, MvccStore.KEY_ORDER)
                    .thenComparing(AuthPermission::getRangeEnd, MvccStore.KEY_ORDER);

    private static boolean sameRange(AuthPermission held, ByteString key, ByteString rangeEnd) {
        return held.getKey().equals(key) && held.getRangeEnd().equals(rangeEnd);
    }

    private AuthState withUser(AuthUser user) {
        SortedMap<String, AuthUser> next = copy(users);
        next.put(user.getName(), user);
        return new AuthState(enabled, revision + 1, tokenKey, next, copy(roles));
    }

    private AuthState withRole(AuthRole role) {
        SortedMap<String, AuthRole> next = copy(roles);
        next.put(role.getName(), role);
        return new AuthState(enabled, revision + 1, tokenKey, copy(users), next);
    }

    private static <V> SortedMap<String, V> copy(SortedMap<String, V> map) {
        return new TreeMap<>(map);
    }

    // Snapshots and digests.

    AuthSnapshot toSnapshot() {
        return AuthSnapshot.newBuilder()
                .setEnabled(enabled)
                .setRevision(revision)
                .setTokenKey(tokenKey)
                .addAllUsers(users.values())
                .addAllRoles(roles.values())
                .build();
    }

    static AuthState fromSnapshot(AuthSnapshot snapshot) {
        SortedMap<String, AuthUser> users = new TreeMap<>();
        snapshot.getUsersList().forEach(user -> users.put(user.getName(), user));
        SortedMap<String, AuthRole> roles = new TreeMap<>();
        snapshot.getRolesList().forEach(role -> roles.put(role.getName(), role));
        return new AuthState(
                snapshot.getEnabled(),
                snapshot.getRevision(),
                snapshot.getTokenKey(),
                users,
                roles);
    }
}
