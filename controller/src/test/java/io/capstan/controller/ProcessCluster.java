package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A cluster of real {@code capstan serve} processes on 127.0.0.1 (free ports chosen at creation),
 * each with its configuration file and data directory under one directory, started, stopped with
 * SIGTERM and killed with SIGKILL for real, and started again on the same files. Members are
 * addressed by index. Not thread-safe: one test thread drives it.
 */
final class ProcessCluster implements AutoCloseable {
    static final Duration READY = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final int[] webPorts;
    private final int[] apiPorts;
    private final List<Path> configs = new ArrayList<>();
    private final DaemonProcess[] members;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    /** Writes {@code size} members' configuration files under {@code dir}; starts none. */
    ProcessCluster(Path dir, int size) throws Exception {
        this.dir = dir;
        this.webPorts = new int[size];
        this.apiPorts = new int[size];
        this.members = new DaemonProcess[size];
        Path secret = dir.resolve("cluster.secret");
        Files.writeString(secret, "process-cluster-test-secret-0123456789");
        for (int i = 0; i < size; i++) {
            webPorts[i] = DaemonProcess.freePort();
            apiPorts[i] = DaemonProcess.freePort();
        }
        String peers =
                IntStream.range(0, size)
                        .mapToObj(i -> "\"" + peer(i) + "\"")
                        .collect(Collectors.joining(", "));
        for (int i = 0; i < size; i++) {
            Path conf = dir.resolve("n" + (i + 1) + ".conf");
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "capstan.node { id = \"n"
                                    + (i + 1)
                                    + "\", data-dir = \""
                                    + dir.resolve("n" + (i + 1))
                                    + "\" }",
                            "capstan.web.port = " + webPorts[i],
                            "capstan.api.port = " + apiPorts[i],
                            "capstan.raft { peers = ["
                                    + peers
                                    + "], secret-file = \""
                                    + secret
                                    + "\" }"));
            configs.add(conf);
        }
    }

    int size() {
        return members.length;
    }

    /** Starts member i's process on its configuration and data directory (again, after a stop). */
    void start(int i) throws Exception {
        start(i, Map.of());
    }

    /**
     * As {@link #start(int)}, with {@code env} ({@code CAPSTAN_*} overrides) in its environment.
     */
    void start(int i, Map<String, String> env) throws Exception {
        members[i] = DaemonProcess.start(dir, env, "serve", "--config", configs.get(i).toString());
    }

    /** Member i's configuration file. */
    Path config(int i) {
        return configs.get(i);
    }

    /** Member i as {@code capstan.raft.peers} lists it: {@code id=host:port}. */
    String peer(int i) {
        return "n" + (i + 1) + "=127.0.0.1:" + webPorts[i];
    }

    /** Waits until member i answers /health/ready with 200. */
    void awaitReady(int i) throws InterruptedException {
        assertTrue(
                members[i].awaitHttpStatus(url(i, "/health/ready"), 200, READY),
                "n" + (i + 1) + " never became ready:\n" + members[i].stderr());
    }

    /** Starts every member, then waits until each is ready. */
    void startAll() throws Exception {
        for (int i = 0; i < size(); i++) {
            start(i);
        }
        for (int i = 0; i < size(); i++) {
            awaitReady(i);
        }
    }

    /** Stops member i as systemd does (SIGTERM) and waits for its clean exit. */
    void terminate(int i) throws InterruptedException {
        members[i].terminate();
        assertEquals(
                0,
                members[i].awaitExit(READY),
                "n" + (i + 1) + " did not stop cleanly:\n" + members[i].stderr());
    }

    /** SIGKILL: nothing of member i runs any more. */
    void kill(int i) throws InterruptedException {
        members[i].kill();
    }

    /** SIGKILL to every member before waiting for any, so none runs on after another died. */
    void killAll() throws InterruptedException {
        for (DaemonProcess member : members) {
            member.signalKill();
        }
        for (DaemonProcess member : members) {
            member.kill();
        }
    }

    String url(int i, String path) {
        return "http://127.0.0.1:" + webPorts[i] + path;
    }

    /** Member i's etcd API endpoint, as etcd clients name it. */
    String apiEndpoint(int i) {
        return "http://127.0.0.1:" + apiPorts[i];
    }

    /** What member i has logged so far. */
    String stderr(int i) {
        return members[i] == null ? "" : members[i].stderr();
    }

    /**
     * True only when member i answered 200 (through etcd's JSON gateway): the put is acknowledged.
     */
    boolean put(int i, String key, String value) {
        try {
            return gateway(
                                    i,
                                    "/v3/kv/put",
                                    "{\"key\":\""
                                            + b64(key)
                                            + "\",\"value\":\""
                                            + b64(value)
                                            + "\"}")
                            .statusCode()
                    == 200;
        } catch (IOException | InterruptedException unreachable) {
            return false;
        }
    }

    /**
     * A linearizable range through member i's JSON gateway ({@code request} is a RangeRequest in
     * JSON).
     */
    JsonNode range(int i, String request) throws IOException, InterruptedException {
        HttpResponse<String> r = gateway(i, "/v3/kv/range", request);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> gateway(int i, String path, String body)
            throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(url(i, path)))
                        .timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The index of the member that reports itself leader. */
    int leader() throws Exception {
        for (int i = 0; i < size(); i++) {
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(URI.create(url(i, "/health/ready"))).build(),
                            HttpResponse.BodyHandlers.ofString());
            if (JSON.readTree(r.body()).path("raft").path("role").asText().equals("leader")) {
                return i;
            }
        }
        throw new AssertionError("no member reports itself leader");
    }

    @Override
    public void close() {
        for (DaemonProcess member : members) {
            if (member != null) {
                member.close();
            }
        }
    }
}
