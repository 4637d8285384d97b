package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability with real processes killed for real: SIGKILL the leader while clients write, restart
 * it, then SIGKILL all three at once and restart them. Every write a client saw acknowledged must
 * be there afterwards. Writes go through etcd's JSON gateway. The same holds for a member made a
 * cluster of its own with {@code capstan recover} after all three were killed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProcessCrashTest {

    @TempDir Path dir;

    private ProcessCluster cluster;

    @BeforeEach
    void configure() throws Exception {
        cluster = new ProcessCluster(dir, 3);
    }

    @AfterEach
    void stopAll() {
        cluster.close();
    }

    private Optional<String> get(int member, String key) throws Exception {
        JsonNode kvs =
                cluster.range(member, "{\"key\":\"" + ProcessCluster.b64(key) + "\"}").path("kvs");
        return kvs.isEmpty()
                ? Optional.empty()
                : Optional.of(
                        new String(
                                Base64.getDecoder().decode(kvs.get(0).path("value").asText()),
                                StandardCharsets.UTF_8));
    }

    /**
     * Writes distinct keys round-robin to the members until stopped; records what was acknowledged.
     */
    private Thread writer(Map<String, String> acknowledged, AtomicBoolean stop, String prefix) {
        return writer(ConcurrentHashMap.newKeySet(), acknowledged, stop, prefix);
    }

    /** As above, and records each key in {@code attempted} before its put is sent. */
    private Thread writer(
            Set<String> attempted,
            Map<String, String> acknowledged,
            AtomicBoolean stop,
            String prefix) {
        Thread t =
                new Thread(
                        () -> {
                            for (int n = 0; !stop.get() && n < 100_000; n++) {
                                String key = prefix + n;
                                attempted.add(key);
                                if (cluster.put(n % 3, key, "v" + n)) {
                                    acknowledged.put(key, "v" + n);
                                }
                            }
                        },
                        "writer-" + prefix);
        t.start();
        return t;
    }

    private void awaitAcknowledged(Map<String, String> acknowledged, int atLeast)
            throws InterruptedException {
        DaemonCluster.awaitTrue(
                atLeast + " acknowledged writes",
                ProcessCluster.READY,
                () -> acknowledged.size() >= atLeast);
    }

    @Test
    void everyAcknowledgedWriteSurvivesSigkillOfTheLeaderAndOfTheWholeCluster() throws Exception {
        cluster.startAll();
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers =
                List.of(writer(acknowledged, stop, "a-"), writer(acknowledged, stop, "b-"));
        awaitAcknowledged(acknowledged, 50);

        int leader = cluster.leader();
        cluster.kill(leader);
        int before = acknowledged.size();
        awaitAcknowledged(acknowledged, before + 50); // the survivors elect a leader and go on
        cluster.start(leader);
        cluster.awaitReady(leader);
        awaitAcknowledged(acknowledged, acknowledged.size() + 50);

        for (int i = 0; i < 3; i++) {
            cluster.kill(i);
        }
        stop.set(true);
        for (Thread w : writers) {
            w.join(TimeUnit.SECONDS.toMillis(30));
        }
        cluster.startAll();
        assertTrue(acknowledged.size() >= 150, "writes acknowledged: " + acknowledged.size());
        int reader = 0;
        for (Map.Entry<String, String> write : acknowledged.entrySet()) {
            assertEquals(
                    Optional.of(write.getValue()),
                    get(reader, write.getKey()),
                    "acknowledged write " + write.getKey() + " lost");
            reader = (reader + 1) % 3;
        }
    }

    /**
     * All three killed while writes are in flight, so no member took a snapshot on its way down:
     * the member that led recovers from its log alone. It led, so its log holds every write that
     * was acknowledged; recover must carry each of them over, and nothing no client sent.
     */
    @Test
    void memberRecoversEveryAcknowledgedWriteAfterTheWholeClusterWasKilled() throws Exception {
        cluster.startAll();
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers =
                List.of(
                        writer(attempted, acknowledged, stop, "a-"),
                        writer(attempted, acknowledged, stop, "b-"));
        awaitAcknowledged(acknowledged, 200);
        int survivor = cluster.leader();
        cluster.killAll();
        stop.set(true);
        for (Thread w : writers) {
            w.join(TimeUnit.SECONDS.toMillis(30));
        }

        DaemonProcess recover =
                DaemonProcess.start(
                        dir, Map.of(), "recover", "--config", cluster.config(survivor).toString());
        assertEquals(0, recover.awaitExit(ProcessCluster.READY), recover.stderr());
        cluster.start(survivor, Map.of("CAPSTAN_PEERS", cluster.peer(survivor)));
        cluster.awaitReady(survivor);

        try (Client client = Client.builder().endpoints(cluster.apiEndpoint(survivor)).build()) {
            GetResponse all =
                    client.getKVClient()
                            .get(bytes("\0"), GetOption.builder().withRange(bytes("\0")).build())
                            .get(30, TimeUnit.SECONDS);
            Map<String, String> present = new HashMap<>();
            for (KeyValue kv : all.getKvs()) {
                present.put(
                        kv.getKey().toString(StandardCharsets.UTF_8),
                        kv.getValue().toString(StandardCharsets.UTF_8));
            }
            for (Map.Entry<String, String> write : acknowledged.entrySet()) {
                assertEquals(
                        write.getValue(),
                        present.get(write.getKey()),
                        "acknowledged write "
                                + write.getKey()
                                + " not recovered ("
                                + acknowledged.size()
                                + " acknowledged, "
                                + present.size()
                                + " recovered); recover said: "
                                + recover.stdout());
            }
            for (String key : present.keySet()) {
                assertTrue(attempted.contains(key), "recovered " + key + ", never written");
            }
            long next =
                    client.getKVClient()
                            .put(bytes("after-recover"), bytes("x"))
                            .get(30, TimeUnit.SECONDS)
                            .getHeader()
                            .getRevision();
            assertEquals(all.getHeader().getRevision() + 1, next);
            assertEquals(
                    1,
                    client.getClusterClient()
                            .listMember()
                            .get(30, TimeUnit.SECONDS)
                            .getMembers()
                            .size());
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
