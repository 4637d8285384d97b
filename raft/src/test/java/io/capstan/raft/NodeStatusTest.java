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
    void caughtUpAllowsTheEntriesInFlightButNotALogReplay() {
        assertTrue(status(Role.FOLLOWER, "n2", 7, 7).caughtUp());
        assertTrue(status(Role.LEADER, "n1", 0, 0).caughtUp());
        assertTrue(
                status(Role.LEADER, "n1", 4, 3).caughtUp(), "one entry between commit and apply");
        assertTrue(status(Role.FOLLOWER, "n2", 1_007, 7).caughtUp(), "exactly the limit");
        assertFalse(status(Role.FOLLOWER, "n2", 1_008, 7).caughtUp(), "replaying its log");
        assertFalse(status(Role.STOPPED, "n2", 7, 7).caughtUp(), "not running");
    }

    @Test
    void aMemberThatAppliedNothingIsNotCaughtUpEvenBeforeItLearnsTheCommit() {
        assertFalse(status(Role.LEADER, "n1", -1, -1).caughtUp());
    }
}
