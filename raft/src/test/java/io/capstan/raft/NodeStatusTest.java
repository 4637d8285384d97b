package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.NodeStatus.Role;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class NodeStatusTest {

    private static NodeStatus status(Role role, String leader, long commit, long applied) {
        return new NodeStatus("n1", role, 1, Optional.ofNullable(leader), commit, applied);
    }

    @Test
    void servingNeedsALeaderAndEverythingCommittedApplied() {
        assertTrue(status(Role.FOLLOWER, "n2", 7, 7).serving());
        assertTrue(status(Role.LEADER, "n1", 0, 0).serving());
        assertFalse(status(Role.FOLLOWER, null, 7, 7).serving(), "no leader known");
        assertFalse(status(Role.FOLLOWER, "n2", 8, 7).serving(), "behind the commit index");
        assertFalse(status(Role.STOPPED, "n2", 7, 7).serving(), "not running");
    }

    @Test
    void aMemberThatAppliedNothingIsNotServingEvenBeforeItLearnsTheCommit() {
        assertFalse(status(Role.LEADER, "n1", -1, -1).serving());
    }
}
