package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability with real processes killed for real: SIGKILL the leader while clients write,
 * restart it, then SIGKILL all three at once and restart them. Every write a client saw
 * acknowledged must be there afterwards. Writes go through etcd's JSON gateway.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProcessCrashTest {
    private static final Duration READY = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @TempDir
    Path dir;

    private final int[] webPorts = new int[3];
    private final List<Path> configs = new ArrayList<>();
    private final DaemonProcess[] members = new DaemonProcess[3];

    private void configure() throws Exception {
        Path secret = dir.resolve("cluster.secret");
        Files.writeString(secret, "process-crash-test-secret-0123456789");
        for (int i = 0; i < 3; i++) {
            webPorts[i] = DaemonProcess.freePort();
        }
        String peers = IntStream.range(0, 3)
                .mapToObj(i -> "\"n" + (i + 1) + "=127.0.0.1:" + webPorts[i] + "\"")
                .collect(Collectors.joining(", "));
        for (int i = 0; i < 3; i++) {
            Path conf = dir.resolve("n" + (i + 1) + ".conf");
            Files.writeString(conf, String.join("\n",
                    "capstan.node { id = \"n" + (i + 1) + "\", data-dir = \"" + dir.resolve("n" + (i + 1)) + "\" }",
                    "capstan.web.port = " + webPorts[i],
                    "capstan.api.port = " + DaemonProcess.freePort(),
                    "capstan.raft { peers = [" + peers + "], secret-file = \"" + secret + "\" }"));
            configs.add(conf);
        }
    }

    private void start(int i) throws Exception {
        members[i] = DaemonProcess.start(dir, Map.of(), "serve", "--config", configs.get(i).toString());
    }

    private String url(int i, String path) {
        return "http://127.0.0.1:" + webPorts[i] + path;
    }

    private void awaitReady(int i) throws InterruptedException {
        assertTrue(members[i].awaitHttpStatus(url(i, "/health/ready"), 200, READY),
                "n" + (i + 1) + " never became ready:\n" + members[i].stderr());
    }

    private int leader() throws Exception {
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url(i, "/health/ready"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (JSON.readTree(r.body()).path("raft").path("role").asText().equals("leader")) {
                return i;
            }
        }
        throw new AssertionError("no member reports itself leader");
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** True only when the member answered 200: the write is acknowledged. */
    private boolean put(int member, String key, String value) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url(member, "/v3/kv/put")))
                    .timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (Exception unreachable) {
            return false;
        }
    }

    private Optional<String> get(int member, String key) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url(member, "/v3/kv/range")))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + b64(key) + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode kvs = JSON.readTree(r.body()).path("kvs");
        return kvs.isEmpty() ? Optional.empty()
                : Optional.of(new String(Base64.getDecoder().decode(kvs.get(0).path("value").asText()),
                        StandardCharsets.UTF_8));
    }

    /** Writes distinct keys round-robin to the members until stopped; records what was acknowledged. */
    private Thread writer(Map<String, String> acknowledged, AtomicBoolean stop, String prefix) {
        Thread t = new Thread(() -> {
            for (int n = 0; !stop.get() && n < 100_000; n++) {
                String key = prefix + n;
                if (put(n % 3, key, "v" + n)) {
                    acknowledged.put(key, "v" + n);
                }
            }
        }, "writer-" + prefix);
        t.start();
        return t;
    }

    private void awaitAcknowledged(Map<String, String> acknowledged, int atLeast) throws InterruptedException {
        DaemonCluster.awaitTrue(atLeast + " acknowledged writes", READY, () -> acknowledged.size() >= atLeast);
    }

    @Test
    void everyAcknowledgedWriteSurvivesSigkillOfTheLeaderAndOfTheWholeCluster() throws Exception {
        configure();
        try {
            for (int i = 0; i < 3; i++) {
                start(i);
            }
            for (int i = 0; i < 3; i++) {
                awaitReady(i);
            }
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> writers = List.of(writer(acknowledged, stop, "a-"), writer(acknowledged, stop, "b-"));
            awaitAcknowledged(acknowledged, 50);

            int leader = leader();
            members[leader].kill();
            int before = acknowledged.size();
            awaitAcknowledged(acknowledged, before + 50);   // the survivors elect a leader and go on
            start(leader);
            awaitReady(leader);
            awaitAcknowledged(acknowledged, acknowledged.size() + 50);

            for (DaemonProcess member : members) {
                member.kill();
            }
            stop.set(true);
            for (Thread w : writers) {
                w.join(TimeUnit.SECONDS.toMillis(30));
            }
            for (int i = 0; i < 3; i++) {
                start(i);
            }
            for (int i = 0; i < 3; i++) {
                awaitReady(i);
            }
            assertTrue(acknowledged.size() >= 150, "writes acknowledged: " + acknowledged.size());
            int reader = 0;
            for (Map.Entry<String, String> write : acknowledged.entrySet()) {
                assertEquals(Optional.of(write.getValue()), get(reader, write.getKey()),
                        "acknowledged write " + write.getKey() + " lost");
                reader = (reader + 1) % 3;
            }
        } finally {
            for (DaemonProcess member : members) {
                if (member != null) {
                    member.close();
                }
            }
        }
    }
}
