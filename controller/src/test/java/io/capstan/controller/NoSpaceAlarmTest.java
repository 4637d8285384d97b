package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.AlarmMember;
import io.etcd.jetcd.maintenance.AlarmType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The space quota on a real daemon: a member whose data directory has less free space than {@code
 * capstan.api.nospace.min-free} raises etcd's NOSPACE alarm by itself and refuses writes that add
 * data with etcd's error, while reads, deletes and the alarm list go on; the alarm outlives a
 * restart, is raised again when disarmed while space is still short, and once there is room (here:
 * the reserve lowered) and it is disarmed, writes go on with nothing lost.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NoSpaceAlarmTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";

    /** More free space than any disk has, so the member is always short of it. */
    private static final String SHORT =
            "capstan.api.nospace { min-free = 1000000TiB, check-interval = 50ms }";

    private static final String ROOM = "capstan.api.nospace.min-free = 1MiB";

    @Test
    void aMemberShortOfSpaceRaisesNoSpaceAndRefusesWritesUntilDisarmedWithRoom(@TempDir Path dir)
            throws Exception {
        try (DaemonCluster cluster = DaemonCluster.start(dir, 1, "web", "")) {
            cluster.awaitLeader(cluster.members(), WAIT);
            try (Client client = client(cluster)) {
                get(client.getKVClient().put(bytes("space/kept"), bytes("v1")));
                get(client.getKVClient().put(bytes("space/dropped"), bytes("v1")));
            }

            Daemon member = cluster.restart(0, SHORT);
            long id = member.raft().memberId();
            try (Client client = client(cluster)) {
                DaemonCluster.awaitTrue(
                        "the NOSPACE alarm raised", WAIT, () -> alarms(client).size() == 1);
                assertEquals(id, alarms(client).get(0).getMemberId());
                assertEquals(AlarmType.NOSPACE, alarms(client).get(0).getAlarmType());
                assertNoSpace(client.getKVClient().put(bytes("space/new"), bytes("v")));
                assertNoSpace(client.getLeaseClient().grant(60));
                assertEquals(
                        "v1",
                        text(
                                get(client.getKVClient().get(bytes("space/kept")))
                                        .getKvs()
                                        .get(0)
                                        .getValue()),
                        "reads go on");
                assertEquals(
                        1,
                        get(client.getKVClient().delete(bytes("space/dropped"))).getDeleted(),
                        "deletes go on, to make room");

                assertEquals(
                        1,
                        get(client.getMaintenanceClient()
                                        .alarmDisarm(new AlarmMember(id, AlarmType.NOSPACE)))
                                .getAlarms()
                                .size());
                DaemonCluster.awaitTrue(
                        "the alarm raised again while space is short",
                        WAIT,
                        () -> alarms(client).size() == 1);
                assertNoSpace(client.getKVClient().put(bytes("space/new"), bytes("v")));
            }

            cluster.restart(0, ROOM);
            try (Client client = client(cluster)) {
                assertEquals(
                        1,
                        alarms(client).size(),
                        "the alarm outlives a restart until it is disarmed");
                assertNoSpace(client.getKVClient().put(bytes("space/new"), bytes("v")));
                get(
                        client.getMaintenanceClient()
                                .alarmDisarm(new AlarmMember(id, AlarmType.NOSPACE)));
                assertEquals(List.of(), alarms(client));
                get(client.getKVClient().put(bytes("space/new"), bytes("v2")));
                assertEquals(
                        "v2",
                        text(
                                get(client.getKVClient().get(bytes("space/new")))
                                        .getKvs()
                                        .get(0)
                                        .getValue()));
                assertEquals(
                        "v1",
                        text(
                                get(client.getKVClient().get(bytes("space/kept")))
                                        .getKvs()
                                        .get(0)
                                        .getValue()));
            }
        }
    }

    private static Client client(DaemonCluster cluster) {
        return Client.builder().endpoints("http://127.0.0.1:" + cluster.apiPort(0)).build();
    }

    private static List<AlarmMember> alarms(Client client) {
        try {
            return get(client.getMaintenanceClient().listAlarms()).getAlarms();
        } catch (Exception e) {
            throw new AssertionError("alarm list failed", e);
        }
    }

    private static void assertNoSpace(CompletableFuture<?> call) {
        ExecutionException refused = assertThrows(ExecutionException.class, () -> get(call));
        assertTrue(
                refused.getCause().getMessage().contains(NO_SPACE), refused.getCause().toString());
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    private static String text(ByteSequence bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
