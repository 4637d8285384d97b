package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.Status;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watches outlive member restarts, as with etcd: real {@code capstan} processes stopped with
 * SIGTERM and started again, watched by real etcd clients, jetcd and etcdctl 3.4 (Debian's {@code
 * etcd-client}, which {@code scripts/install-test-deps.sh} installs), each both through the one
 * member that restarts first and through all three. One writer puts new keys all along; in turn (a)
 * the member the single-endpoint watchers use restarts, (b) the whole cluster restarts, (c) every
 * member restarts in turn (a rolling upgrade), with puts before, during and after each. Every
 * watcher must then have seen every put that the cluster holds, exactly once and in revision order.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class WatchAcrossRestartsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "w/";
    private static final String LAST = PREFIX + "~last";

    /**
     * Puts to see acknowledged between two steps, so that each step has puts before and after it.
     */
    private static final int PUTS_PER_STEP = 10;

    @TempDir Path dir;

    private ProcessCluster cluster;
    private final List<AutoCloseable> watchers = new ArrayList<>();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final AtomicInteger acknowledged = new AtomicInteger();

    @BeforeEach
    void configure() throws Exception {
        cluster = new ProcessCluster(dir, 3);
    }

    @AfterEach
    void stopAll() throws Exception {
        writing.set(false);
        for (AutoCloseable watcher : watchers) {
            watcher.close();
        }
        cluster.close();
    }

    @Test
    void everyPutIsSeenOnceInOrderAcrossRestartsOfOneMemberTheClusterAndEachInTurn()
            throws Exception {
        String etcdctl = etcdctl();
        cluster.startAll();
        long from =
                cluster.range(0, "{\"key\":\"" + ProcessCluster.b64(PREFIX) + "\"}")
                                .path("header")
                                .path("revision")
                                .asLong()
                        + 1;
        String first = cluster.apiEndpoint(0);
        String all =
                IntStream.range(0, 3)
                        .mapToObj(cluster::apiEndpoint)
                        .collect(Collectors.joining(","));
        List<Watcher> clients =
                List.of(
                        jetcd("jetcd through n1", first, from),
                        jetcd("jetcd through all", all, from),
                        etcdctl(etcdctl, "etcdctl through n1", first, from),
                        etcdctl(etcdctl, "etcdctl through all", all, from));
        Thread writer = new Thread(this::write, "writer");
        writer.start();
        awaitPuts();

        // (a) the member the single-endpoint watchers talk to.
        cluster.terminate(0);
        awaitPuts();
        cluster.start(0);
        cluster.awaitReady(0);
        awaitPuts();

        // (b) the whole cluster: the writer's puts fail until a quorum is back.
        for (int i = 0; i < 3; i++) {
            cluster.terminate(i);
        }
        cluster.startAll();
        awaitPuts();

        // (c) a rolling restart, as an upgrade goes.
        for (int i = 0; i < 3; i++) {
            cluster.terminate(i);
            awaitPuts();
            cluster.start(i);
            cluster.awaitReady(i);
            awaitPuts();
        }

        writing.set(false);
        writer.join(TimeUnit.SECONDS.toMillis(30));
        DaemonCluster.awaitTrue(
                "the last put", ProcessCluster.READY, () -> cluster.put(0, LAST, "end"));
        List<String> held = history();
        assertTrue(held.size() > 8 * PUTS_PER_STEP, "puts the cluster holds: " + held.size());
        for (Watcher client : clients) {
            awaitLastPut(client);
            assertEquals(
                    held,
                    client.seen().get(),
                    client.name()
                            + " saw every put once, in revision order ("
                            + client.describe().get()
                            + ")");
        }
    }

    /**
     * Puts w/00001, w/00002, ... round-robin through the members until told to stop; never the same
     * key twice.
     */
    private void write() {
        for (int n = 1; writing.get(); n++) {
            if (cluster.put(n % 3, String.format("%s%05d", PREFIX, n), "v" + n)) {
                acknowledged.incrementAndGet();
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Returns once {@code client} saw the last put, or gave up waiting (the comparison then says
     * what it missed).
     */
    private static void awaitLastPut(Watcher client) throws InterruptedException {
        long deadline = System.nanoTime() + ProcessCluster.READY.toNanos();
        while (System.nanoTime() < deadline
                && client.seen().get().stream().noneMatch(event -> event.startsWith(LAST + "@"))) {
            Thread.sleep(100);
        }
    }

    private void awaitPuts() throws InterruptedException {
        int target = acknowledged.get() + PUTS_PER_STEP;
        DaemonCluster.awaitTrue(
                target + " acknowledged puts",
                ProcessCluster.READY,
                () -> acknowledged.get() >= target);
    }

    /** Every key under the prefix as the cluster holds it, in revision order ("key@revision"). */
    private List<String> history() throws Exception {
        JsonNode kvs =
                cluster.range(
                                0,
                                "{\"key\":\""
                                        + ProcessCluster.b64(PREFIX)
                                        + "\",\"range_end\":\""
                                        + ProcessCluster.b64("w0")
                                        + "\",\"sort_target\":\"MOD\",\"sort_order\":\"ASCEND\"}")
                        .path("kvs");
        List<String> held = new ArrayList<>();
        for (JsonNode kv : kvs) {
            assertEquals(1, kv.path("version").asLong(), "every key is put once: " + kv);
            String key =
                    new String(
                            Base64.getDecoder().decode(kv.path("key").asText()),
                            StandardCharsets.UTF_8);
            held.add(key + "@" + kv.path("mod_revision").asLong());
        }
        return held;
    }

    /**
     * A client's watch on the prefix from revision {@code from}.
     *
     * @param seen the events it saw so far, as "key@revision"
     * @param describe how it fared, for a failure's message
     */
    private record Watcher(String name, Supplier<List<String>> seen, Supplier<String> describe) {}

    private Watcher jetcd(String name, String endpoints, long from) {
        Client client = Client.builder().endpoints(endpoints.split(",")).build();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Set<String> errors = ConcurrentHashMap.newKeySet();
        AtomicBoolean completed = new AtomicBoolean();
        Watch.Watcher watch =
                client.getWatchClient()
                        .watch(
                                ByteSequence.from(PREFIX, StandardCharsets.UTF_8),
                                WatchOption.builder().isPrefix(true).withRevision(from).build(),
                                Watch.listener(
                                        response -> {
                                            for (WatchEvent event : response.getEvents()) {
                                                seen.add(
                                                        event.getKeyValue()
                                                                        .getKey()
                                                                        .toString(
                                                                                StandardCharsets
                                                                                        .UTF_8)
                                                                + "@"
                                                                + event.getKeyValue()
                                                                        .getModRevision());
                                            }
                                        },
                                        error ->
                                                errors.add(
                                                        Status.fromThrowable(error).getCode()
                                                                + " "
                                                                + error.getMessage()),
                                        () -> completed.set(true)));
        watchers.add(
                () -> {
                    watch.close();
                    client.close();
                });
        return new Watcher(
                name,
                () -> List.copyOf(seen),
                () ->
                        "errors reported on the way: "
                                + errors
                                + (completed.get() ? "; the watch ended" : ""));
    }

    /**
     * {@code etcdctl watch --prefix w/ --rev FROM -w json} in the background; its output is read
     * when asked.
     */
    private Watcher etcdctl(String etcdctl, String name, String endpoints, long from)
            throws IOException {
        Path out = Files.createTempFile(dir, "etcdctl-watch", ".json");
        Path err = Files.createTempFile(dir, "etcdctl-watch", ".err");
        ProcessBuilder builder =
                new ProcessBuilder(
                                etcdctl,
                                "--endpoints=" + endpoints,
                                "watch",
                                "--prefix",
                                PREFIX,
                                "--rev",
                                Long.toString(from),
                                "-w",
                                "json")
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile());
        builder.environment().put("ETCDCTL_API", "3");
        Process process = builder.start();
        watchers.add(
                () -> {
                    process.destroy();
                    process.waitFor(10, TimeUnit.SECONDS);
                    process.destroyForcibly();
                });
        return new Watcher(
                name,
                () -> etcdctlEvents(out),
                () ->
                        (process.isAlive() ? "running" : "exited " + process.exitValue())
                                + "; stderr: "
                                + read(err)
                                        .lines()
                                        .filter(line -> !line.startsWith("{\"level\""))
                                        .collect(Collectors.joining(" | ")));
    }

    /** The events of etcdctl's JSON lines so far; a line still being written is left for later. */
    private static List<String> etcdctlEvents(Path out) {
        List<String> seen = new ArrayList<>();
        for (String line : read(out).split("\n", -1)) {
            JsonNode response;
            try {
                response = JSON.readTree(line);
            } catch (IOException partial) {
                continue;
            }
            if (response == null) {
                continue;
            }
            for (JsonNode event : response.path("Events")) {
                JsonNode kv = event.path("kv");
                seen.add(
                        new String(
                                        Base64.getDecoder().decode(kv.path("key").asText()),
                                        StandardCharsets.UTF_8)
                                + "@"
                                + kv.path("mod_revision").asLong());
            }
        }
        return seen;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** etcdctl on the PATH; the test needs it and says how to get it. */
    private static String etcdctl() {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(entry, "etcdctl");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError(
                "etcdctl is not installed: scripts/install-test-deps.sh installs it (etcd-client)");
    }
}
