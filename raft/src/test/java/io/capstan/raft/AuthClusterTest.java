package io.capstan.raft;

import static io.capstan.raft.Ops.as;
import static io.capstan.raft.Ops.callerOf;
import static io.capstan.raft.Ops.grantRole;
import static io.capstan.raft.Ops.put;
import static io.capstan.raft.Ops.roleAdd;
import static io.capstan.raft.Ops.userAdd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.AuthSnapshot;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import io.capstan.raft.proto.UserListRequest;
import java.io.IOException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The replicated auth state on a real 3-member group: it survives a member's restart, a restart of
 * the whole group, and a lagging member's snapshot install, and every member checks callers against
 * it.
 */
@ExtendWith(RaftClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AuthClusterTest {
    @Test
    void aRestartedMemberAndARestartedGroupEnforceTheSameAuthState(RaftCluster cluster) {
        int leader = cluster.awaitLeader();
        enableWithRootAndApp(cluster, leader);
        Caller app = callerOf(cluster.node(leader).auth(), "app");
        cluster.propose(leader, as(app, put("app/before", "1")));
        assertRefused(Failure.Code.PERMISSION_DENIED, leader, cluster, as(app, put("other", "1")));
        StateDigest before = cluster.awaitConverged();
        AuthSnapshot expected = cluster.node(leader).auth().toSnapshot();

        int restarted = cluster.anyFollower();
        cluster.stop(restarted);
        cluster.start(restarted);
        assertEquals(before, cluster.awaitConverged());
        AuthState recovered = cluster.node(restarted).auth();
        assertTrue(recovered.enabled());
        assertEquals(expected, recovered.toSnapshot());
        // A token issued before the restart still names the same password revision.
        assertEquals(app, callerOf(recovered, "app"));

        // Leading, the restarted member's own apply answers the proposals.
        cluster.node(cluster.awaitLeader())
                .admin()
                .transferLeadership(cluster.node(restarted).nodeId())
                .orTimeout(RaftCluster.WAIT.toSeconds(), TimeUnit.SECONDS)
                .join();
        assertEquals(restarted, cluster.awaitLeader());
        assertEnforced(cluster, restarted, app);

        StateDigest settled = cluster.awaitConverged();
        for (int member = 0; member < cluster.size(); member++) {
            cluster.stop(member);
        }
        for (int member = 0; member < cluster.size(); member++) {
            cluster.start(member);
        }
        int newLeader = cluster.awaitLeader();
        assertEquals(settled, cluster.awaitConverged());
        for (int member = 0; member < cluster.size(); member++) {
            assertEquals(expected, cluster.node(member).auth().toSnapshot(), "member " + member);
        }
        assertEnforced(cluster, newLeader, app);
    }

    @Test
    @RaftClusterExtension.SnapshotTuning
    void aFollowerInstallsTheAuthStateChangedWhileItWasDown(RaftCluster cluster)
            throws IOException {
        int leader = cluster.awaitLeader();
        enableWithRootAndApp(cluster, leader);
        cluster.awaitConverged();
        int follower = cluster.anyFollower();
        cluster.stop(follower);

        // While it is down: a new role on logs/, granted to app and to a new user.
        leader = cluster.awaitLeader();
        Caller root = callerOf(cluster.node(leader).auth(), "root");
        cluster.propose(leader, as(root, roleAdd("audit")));
        cluster.propose(leader, as(root, grantPrefix("audit", AuthPermission.Type.READ, "logs/")));
        cluster.propose(leader, as(root, userAdd("auditor")));
        cluster.propose(leader, as(root, grantRole("auditor", "audit")));
        cluster.propose(leader, as(root, grantRole("app", "audit")));
        cluster.propose(leader, as(root, put("logs/1", "entry")));
        Caller app = callerOf(cluster.node(leader).auth(), "app");
        String value = "x".repeat(512);
        for (int i = 0; i < 60; i++) {
            cluster.propose(leader, as(app, put("app/k" + (i % 10), value + i)));
        }
        // Small segments and nothing kept behind a snapshot: the stopped follower's part of the
        // log is purged, so it can only catch up by installing a snapshot.
        Set<Long> taken = new HashSet<>();
        for (int member : cluster.running()) {
            taken.add(
                    cluster.node(member)
                            .admin()
                            .takeSnapshot()
                            .orTimeout(RaftCluster.WAIT.toSeconds(), TimeUnit.SECONDS)
                            .join());
        }
        // Ratis may snapshot a member as it stops, so the follower can hold one of its own, but
        // behind these; only an installed one can carry an index taken here.
        Set<Long> own = RaftFiles.snapshots(cluster.dataDir(follower)).keySet();
        long first = Collections.min(taken);
        assertTrue(own.stream().allMatch(i -> i < first), own + " vs " + taken);

        cluster.start(follower);
        StateDigest digest = cluster.awaitConverged();
        Set<Long> held = RaftFiles.snapshots(cluster.dataDir(follower)).keySet();
        assertTrue(
                held.stream().anyMatch(taken::contains),
                "the follower installed no snapshot: it holds " + held + ", taken " + taken);
        AuthState installed = cluster.node(follower).auth();
        AuthSnapshot leaders = cluster.node(cluster.awaitLeader()).auth().toSnapshot();
        assertEquals(leaders, installed.toSnapshot());
        assertTrue(installed.enabled());
        assertEquals(List.of("app", "audit"), installed.roleNames());
        assertEquals(List.of("app", "audit"), installed.user("app").orElseThrow().getRolesList());
        assertEquals(List.of("audit"), installed.user("auditor").orElseThrow().getRolesList());

        // The follower answers callers' reads from the installed state, by itself.
        Caller auditor = callerOf(installed, "auditor");
        assertEquals(app, callerOf(installed, "app"));
        assertEquals(1, read(cluster, follower, app, "logs/").getRange().getCount());
        assertEquals(10, read(cluster, follower, app, "app/").getRange().getCount());
        assertEquals(1, read(cluster, follower, auditor, "logs/").getRange().getCount());
        assertReadRefused(Failure.Code.PERMISSION_DENIED, cluster, follower, app, "other/");
        assertReadRefused(Failure.Code.PERMISSION_DENIED, cluster, follower, auditor, "app/");
        assertReadRefused(
                Failure.Code.USER_EMPTY, cluster, follower, Caller.getDefaultInstance(), "app/");
        QueryResult users =
                cluster.query(
                        follower,
                        Query.newBuilder()
                                .setUserList(UserListRequest.getDefaultInstance())
                                .setCaller(callerOf(installed, "root"))
                                .build(),
                        ReadConsistency.SERIALIZABLE);
        assertEquals(List.of("app", "auditor", "root"), users.getUserList().getUsersList());

        // Everyone restarts from its own snapshot and log, and still enforces it.
        for (int member = 0; member < cluster.size(); member++) {
            cluster.stop(member);
        }
        for (int member = 0; member < cluster.size(); member++) {
            cluster.start(member);
        }
        int newLeader = cluster.awaitLeader();
        assertEquals(digest, cluster.awaitConverged());
        assertEquals(installed.toSnapshot(), cluster.node(follower).auth().toSnapshot());
        assertRefused(
                Failure.Code.PERMISSION_DENIED,
                newLeader,
                cluster,
                as(auditor, put("logs/2", "x")));
        assertEnforced(cluster, newLeader, app);
    }

    /**
     * Through {@code member}: app may write under app/ only, anyone without a token nowhere, and
     * every member ends in the same state, so none applied a refused command.
     */
    private static void assertEnforced(RaftCluster cluster, int member, Caller app) {
        long revision = cluster.awaitConverged().revision();
        assertRefused(Failure.Code.PERMISSION_DENIED, member, cluster, as(app, put("other", "2")));
        assertRefused(
                Failure.Code.USER_EMPTY,
                member,
                cluster,
                as(Caller.getDefaultInstance(), put("app/anonymous", "2")));
        CommandResult applied = cluster.propose(member, as(app, put("app/after", "2")));
        assertEquals(revision + 1, applied.getRevision());
        assertEquals(revision + 1, cluster.awaitConverged().revision());
        for (int i : cluster.running()) {
            assertFalse(cluster.get(i, "other", ReadConsistency.SERIALIZABLE).isPresent());
            assertTrue(cluster.get(i, "app/after", ReadConsistency.SERIALIZABLE).isPresent());
        }
    }

    /** root with the root role, role app with READWRITE on app/, user app holding it; auth on. */
    private static void enableWithRootAndApp(RaftCluster cluster, int leader) {
        cluster.propose(leader, userAdd("root"));
        cluster.propose(leader, grantRole("root", AuthState.ROOT));
        cluster.propose(leader, roleAdd("app"));
        cluster.propose(leader, grantPrefix("app", AuthPermission.Type.READWRITE, "app/"));
        cluster.propose(leader, userAdd("app"));
        cluster.propose(leader, grantRole("app", "app"));
        cluster.propose(leader, Ops.enableAuth());
        assertTrue(cluster.node(leader).auth().enabled());
    }

    private static void assertRefused(
            Failure.Code code, int member, RaftCluster cluster, Command command) {
        CompletionException refused =
                assertThrows(CompletionException.class, () -> cluster.propose(member, command));
        assertEquals(code, assertInstanceOf(KeyspaceException.class, refused.getCause()).code());
    }

    private static QueryResult read(RaftCluster cluster, int member, Caller caller, String prefix) {
        return cluster.query(member, prefixQuery(caller, prefix), ReadConsistency.SERIALIZABLE);
    }

    private static void assertReadRefused(
            Failure.Code code, RaftCluster cluster, int member, Caller caller, String prefix) {
        CompletionException refused =
                assertThrows(
                        CompletionException.class, () -> read(cluster, member, caller, prefix));
        assertEquals(code, assertInstanceOf(KeyspaceException.class, refused.getCause()).code());
    }

    private static Query prefixQuery(Caller caller, String prefix) {
        return Ops.range(Ops.rangeReq(prefix, prefixEnd(prefix))).toBuilder()
                .setCaller(caller)
                .build();
    }

    /** A permission on every key starting with {@code prefix}, as etcdctl's --prefix grants. */
    private static Command grantPrefix(String role, AuthPermission.Type type, String prefix) {
        return Ops.grantPermission(role, type, prefix, prefixEnd(prefix));
    }

    /** The prefixes here end in an ASCII character, so the next one bounds the range. */
    private static String prefixEnd(String prefix) {
        char last = prefix.charAt(prefix.length() - 1);
        return prefix.substring(0, prefix.length() - 1) + (char) (last + 1);
    }
}
