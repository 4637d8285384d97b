package io.capstan.controller.etcd;

import static io.capstan.controller.etcd.KvApiTest.bytes;
import static io.capstan.controller.etcd.KvApiTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.controller.etcd.EtcdCluster.Role;
import io.capstan.raft.NodeStatus;
import io.etcd.jetcd.maintenance.StatusResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Maintenance.Status through jetcd: every member reports itself, the same leader, and its Raft progress. */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MaintenanceApiTest {

    @ParameterizedTest
    @EnumSource(Role.class)
    void statusDescribesTheMember(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        int leader = cluster.awaitLeader();
        long revision = get(cluster.jetcd(member).getKVClient().put(bytes("status/" + role), bytes("v")))
                .getHeader().getRevision();

        StatusResponse status = get(cluster.jetcd(member).getMaintenanceClient().statusMember(cluster.endpoint(member)));

        assertEquals(StatusOperation.ETCD_VERSION, status.getVersion());
        assertEquals(cluster.memberId(leader), status.getLeader());
        assertEquals(cluster.memberId(member), status.getHeader().getMemberId());
        assertEquals(cluster.clusterId(), status.getHeader().getClusterId());
        if (role == Role.LEADER) {
            assertTrue(status.getHeader().getRevision() >= revision, "the leader applied the write it acknowledged");
        }
        NodeStatus raft = cluster.node(member).status();
        assertTrue(status.getRaftTerm() >= 1 && status.getRaftTerm() <= raft.term());
        assertTrue(status.getRaftIndex() >= 1 && status.getRaftIndex() <= raft.commitIndex());
        assertTrue(status.getRaftAppliedIndex() <= status.getRaftIndex());
        assertTrue(status.getDbSize() > 0, "the Raft log takes room on disk");
        assertEquals(status.getDbSize(), status.getDbSizeInUse());
        assertFalse(status.isLearner());
        assertEquals(List.of(), status.getErrorList());
    }

    @Test
    void membersHaveDistinctIdsInOneCluster(EtcdCluster cluster) throws Exception {
        cluster.awaitLeader();
        Set<Long> members = new HashSet<>();
        for (int i = 0; i < cluster.running(); i++) {
            StatusResponse status = get(cluster.jetcd(i).getMaintenanceClient().statusMember(cluster.endpoint(i)));
            members.add(status.getHeader().getMemberId());
            assertEquals(cluster.clusterId(), status.getHeader().getClusterId());
            assertNotEquals(0, status.getHeader().getMemberId());
        }
        assertEquals(cluster.running(), members.size());
    }
}
