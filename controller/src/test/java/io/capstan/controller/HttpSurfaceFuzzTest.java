package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.raft.StateDigest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the HTTP surfaces of a one-member daemon: etcd's JSON gateway ({@code /v3/...}), the admin
 * endpoints ({@code /v1/...}, {@code /metrics}, {@code /health/...}) and tus uploads, with any
 * method, content type, token and body: raw bytes, JSON of the wrong shape or nested deep, and
 * well-formed requests whose keys, values and transactions exceed the member's limits (set small
 * here, so that they are within reach).
 *
 * <p>Invariants, after every request: no 5xx; a 4xx carries a body that says why (HEAD aside) and
 * changed no state, and when its body is not JSON at all the Raft log applied nothing for it
 * (refusals that depend on the state, such as a put on a lease that does not exist, are decided as
 * the command applies, as in etcd); the member stays ready. Leases a request grants are revoked at
 * once, so that no expiry reaches the log behind a later request's back.
 *
 * <p>Requests that would change the membership of the cluster or lock everyone out (add, remove,
 * promote, leader transfer, auth enable) are fuzzed only where they cannot succeed: without the
 * admin token, or with a body that cannot parse or is too large; their refusals are checked the
 * same way. Artifact registration is left out with the token: the member would fetch from the URL.
 *
 * <p>CI runs {@code maxDuration}; {@code JAZZER_MAX_DURATION} runs longer (README, Bad input).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class HttpSurfaceFuzzTest {
    private static final String TOKEN = "http-surface-fuzz-admin-token";
    private static final int MAX_KEY_BYTES = 64;
    private static final int MAX_VALUE_BYTES = 256;
    private static final int MAX_REQUEST_BYTES = 2048;
    private static final int MAX_TXN_OPS = 8;

    /**
     * More than the gateway ({@code 2 * max-request-bytes + 64KiB}) or an admin route (64KiB)
     * takes.
     */
    private static final int TOO_LARGE = 128 << 10;

    private static final Duration ANSWER = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(ANSWER)
                    .build();

    /** A route to fuzz: its method and path, and what a request to it may carry. */
    private record Target(String method, String path, Kind kind) {}

    private enum Kind {
        /** Anything, the admin token included. */
        OPEN,
        /** Answers with a stream that stays open: a 2xx is taken from its headers. */
        STREAM,
        /**
         * Would change the membership or lock clients out: only without the token or with a body
         * that cannot parse.
         */
        GUARDED
    }

    private static final List<Target> TARGETS =
            List.of(
                    new Target("POST", "/v3/kv/range", Kind.OPEN),
                    new Target("POST", "/v3/kv/put", Kind.OPEN),
                    new Target("POST", "/v3/kv/deleterange", Kind.OPEN),
                    new Target("POST", "/v3/kv/txn", Kind.OPEN),
                    new Target("POST", "/v3/kv/compaction", Kind.OPEN),
                    new Target("POST", "/v3/lease/grant", Kind.OPEN),
                    new Target("POST", "/v3/lease/revoke", Kind.OPEN),
                    new Target("POST", "/v3/lease/keepalive", Kind.OPEN),
                    new Target("POST", "/v3/lease/timetolive", Kind.OPEN),
                    new Target("POST", "/v3/lease/leases", Kind.OPEN),
                    new Target("POST", "/v3/maintenance/status", Kind.OPEN),
                    new Target("POST", "/v3/maintenance/alarm", Kind.OPEN),
                    new Target("POST", "/v3/maintenance/hash", Kind.OPEN),
                    new Target("POST", "/v3/maintenance/hashkv", Kind.OPEN),
                    new Target("POST", "/v3/maintenance/defragment", Kind.OPEN),
                    new Target("POST", "/v3/maintenance/snapshot", Kind.STREAM),
                    new Target("POST", "/v3/watch", Kind.STREAM),
                    new Target("POST", "/v3/cluster/member/list", Kind.OPEN),
                    new Target("POST", "/v3/cluster/member/add", Kind.GUARDED),
                    new Target("POST", "/v3/cluster/member/remove", Kind.GUARDED),
                    new Target("POST", "/v3/cluster/member/update", Kind.GUARDED),
                    new Target("POST", "/v3/cluster/member/promote", Kind.GUARDED),
                    new Target("POST", "/v3/maintenance/transfer-leadership", Kind.GUARDED),
                    new Target("POST", "/v3/lock/lock", Kind.STREAM),
                    new Target("POST", "/v3/lock/unlock", Kind.OPEN),
                    new Target("POST", "/v3/election/campaign", Kind.STREAM),
                    new Target("POST", "/v3/election/proclaim", Kind.OPEN),
                    new Target("POST", "/v3/election/leader", Kind.OPEN),
                    new Target("POST", "/v3/election/observe", Kind.STREAM),
                    new Target("POST", "/v3/election/resign", Kind.OPEN),
                    new Target("POST", "/v3/auth/enable", Kind.GUARDED),
                    new Target("POST", "/v3/auth/disable", Kind.OPEN),
                    new Target("POST", "/v3/auth/status", Kind.OPEN),
                    new Target("POST", "/v3/auth/authenticate", Kind.OPEN),
                    new Target("POST", "/v3/auth/user/add", Kind.OPEN),
                    new Target("POST", "/v3/auth/user/get", Kind.OPEN),
                    new Target("POST", "/v3/auth/user/delete", Kind.OPEN),
                    new Target("POST", "/v3/auth/user/grant", Kind.OPEN),
                    new Target("POST", "/v3/auth/role/add", Kind.OPEN),
                    new Target("POST", "/v3/auth/role/grant", Kind.OPEN),
                    new Target("GET", "/v1/cluster", Kind.OPEN),
                    new Target("POST", "/v1/cluster/members", Kind.GUARDED),
                    new Target("DELETE", "/v1/cluster/members/", Kind.GUARDED),
                    new Target("POST", "/v1/cluster/leader", Kind.GUARDED),
                    new Target("POST", "/v1/snapshot", Kind.OPEN),
                    new Target("GET", "/v1/snapshot", Kind.OPEN),
                    new Target("GET", "/v1/artifacts", Kind.OPEN),
                    new Target("POST", "/v1/artifacts", Kind.GUARDED),
                    new Target("GET", "/v1/artifacts/", Kind.OPEN),
                    new Target("POST", "/v1/uploads", Kind.OPEN),
                    new Target("PATCH", "/v1/uploads/", Kind.OPEN),
                    new Target("HEAD", "/v1/uploads/", Kind.OPEN),
                    new Target("GET", "/metrics", Kind.OPEN),
                    new Target("GET", "/health/ready", Kind.OPEN),
                    new Target("GET", "/nowhere", Kind.OPEN));

    private static final String[] METHODS = {
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"
    };
    private static final String[] CONTENT_TYPES = {
        "application/json",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-protobuf",
        "application/offset+octet-stream",
        "multipart/form-data; boundary=x",
        "application/grpc"
    };
    private static final String[] FIELDS = {
        "key",
        "range_end",
        "value",
        "lease",
        "ID",
        "TTL",
        "name",
        "password",
        "role",
        "revision",
        "limit",
        "keys_only",
        "prev_kv",
        "create_request",
        "compare",
        "success",
        "failure"
    };

    @TempDir static Path dir;
    private static DaemonCluster cluster;
    private static Daemon member;

    @BeforeAll
    static void start() throws Exception {
        Path token = Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
        cluster =
                DaemonCluster.start(
                        dir,
                        1,
                        "web",
                        String.join(
                                "\n",
                                "capstan.admin.token-file = \"" + token + "\"",
                                "capstan.api.nospace.min-free = 0",
                                "capstan.raft.limits {",
                                "  max-key-bytes = " + MAX_KEY_BYTES,
                                "  max-value-bytes = " + MAX_VALUE_BYTES,
                                "  max-request-bytes = " + MAX_REQUEST_BYTES,
                                "  max-txn-ops = " + MAX_TXN_OPS,
                                "}"));
        member = cluster.awaitLeader(cluster.members(), ANSWER);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @FuzzTest(maxDuration = "20s")
    void anyRequest(FuzzedDataProvider data) throws Exception {
        Target target = data.pickValue(TARGETS);
        boolean guarded = target.kind() == Kind.GUARDED;
        String method = data.consumeBoolean() ? target.method() : data.pickValue(METHODS);
        String path =
                target.path().endsWith("/")
                        ? target.path()
                                + Base64.getUrlEncoder()
                                        .withoutPadding()
                                        .encodeToString(data.consumeBytes(24))
                        : target.path();
        if (data.consumeBoolean()) {
            path += "?" + Base64.getUrlEncoder().encodeToString(data.consumeBytes(24));
        }
        int token = data.consumeInt(0, 2);
        boolean withToken = token == 2 && !(guarded && target.path().startsWith("/v1/"));
        String contentType = data.pickValue(CONTENT_TYPES);
        byte[] body = body(data, guarded);

        HttpRequest.Builder request =
                HttpRequest.newBuilder(
                                URI.create(
                                        "http://127.0.0.1:" + member.webAddress().getPort() + path))
                        .timeout(ANSWER)
                        .header("Content-Type", contentType)
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        if (withToken) {
            request.header("Authorization", "Bearer " + TOKEN);
        } else if (token == 1) {
            request.header("Authorization", "Bearer not-the-" + TOKEN);
        }
        boolean parses = parses(body);
        long applied = member.raft().status().appliedIndex();
        StateDigest state = member.raft().stateDigest();
        String what = method + " " + path + " (" + body.length + " bytes of " + contentType + ")";
        HttpResponse<InputStream> answer;
        try {
            answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            assertEquals(Kind.STREAM, target.kind(), what + " had no answer within " + ANSWER);
            revokeLeases();
            return;
        }
        int status = answer.statusCode();
        if (status < 400 && target.kind() == Kind.STREAM) {
            answer.body().close();
            revokeLeases();
            return;
        }
        String text;
        try (InputStream in = answer.body()) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(status < 500, () -> what + " answered " + status + ": " + text);
        if (status >= 400) {
            if (!method.equals("HEAD")) {
                assertFalse(
                        text.isBlank(), () -> what + " answered " + status + " without saying why");
            }
            assertEquals(
                    state,
                    member.raft().stateDigest(),
                    () -> what + " answered " + status + " (" + text + ") yet changed the state");
            if (!parses) {
                assertEquals(
                        applied,
                        member.raft().status().appliedIndex(),
                        () ->
                                what
                                        + " answered "
                                        + status
                                        + " ("
                                        + text
                                        + ") yet reached the Raft log");
            }
        } else {
            revokeLeases();
        }
        // Ready again soon: right after a write the applied index may trail the commit for a
        // moment.
        DaemonCluster.awaitTrue("ready after " + what, ANSWER, () -> ready());
    }

    /**
     * A request body: raw bytes; JSON of etcd's field names with values of any type; JSON nested
     * deep; or a put or transaction whose key, value or operations exceed the limits. A guarded
     * target's body never parses: a NUL first, or more bytes than any route takes.
     */
    private static byte[] body(FuzzedDataProvider data, boolean guarded) throws IOException {
        byte[] body =
                switch (data.consumeInt(0, 4)) {
                    case 0 -> data.consumeBytes(4096);
                    case 1 -> {
                        StringBuilder json = new StringBuilder("{");
                        int fields = data.consumeInt(0, 6);
                        for (int i = 0; i < fields; i++) {
                            json.append(i == 0 ? "" : ",")
                                    .append('"')
                                    .append(data.pickValue(FIELDS))
                                    .append("\":")
                                    .append(data.consumeString(64));
                        }
                        yield json.append('}').toString().getBytes(StandardCharsets.UTF_8);
                    }
                    case 2 -> {
                        int depth = data.consumeInt(1, 5000);
                        yield ("[".repeat(depth) + "]".repeat(data.consumeInt(0, depth)))
                                .getBytes(StandardCharsets.UTF_8);
                    }
                    case 3 ->
                            JSON.writeValueAsBytes(
                                    JSON.createObjectNode()
                                            .put(
                                                    "key",
                                                    base64(data.consumeInt(0, 2 * MAX_KEY_BYTES)))
                                            .put(
                                                    "value",
                                                    base64(
                                                            data.consumeInt(
                                                                    0, 2 * MAX_REQUEST_BYTES))));
                    default -> transaction(data);
                };
        if (!guarded) {
            return body;
        }
        if (data.consumeBoolean()) {
            byte[] unparsable = new byte[body.length + 1];
            System.arraycopy(body, 0, unparsable, 1, body.length);
            return unparsable;
        }
        return new byte[TOO_LARGE];
    }

    /** Whether {@code body} is JSON at all: what is not must never reach the log. */
    private static boolean parses(byte[] body) {
        try {
            JSON.readTree(body);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A transaction of puts, as many and as large as the fuzzer asks. */
    private static byte[] transaction(FuzzedDataProvider data) throws IOException {
        var txn = JSON.createObjectNode();
        var success = txn.putArray("success");
        int ops = data.consumeInt(0, 2 * MAX_TXN_OPS);
        for (int i = 0; i < ops; i++) {
            success.addObject()
                    .putObject("request_put")
                    .put("key", base64(data.consumeInt(1, MAX_KEY_BYTES + 1)))
                    .put("value", base64(data.consumeInt(0, MAX_VALUE_BYTES + 1)));
        }
        return JSON.writeValueAsBytes(txn);
    }

    private static String base64(int bytes) {
        return Base64.getEncoder().encodeToString(new byte[bytes]);
    }

    /** Revokes every lease, so that none expires behind a later request's back. */
    private static void revokeLeases() throws Exception {
        HttpResponse<String> leases = send("POST", "/v3/lease/leases", "{}");
        assertEquals(200, leases.statusCode(), leases.body());
        for (JsonNode lease : JSON.readTree(leases.body()).path("leases")) {
            HttpResponse<String> revoked =
                    send(
                            "POST",
                            "/v3/lease/revoke",
                            "{\"ID\":\"" + lease.path("ID").asText() + "\"}");
            assertTrue(revoked.statusCode() == 200 || revoked.statusCode() == 404, revoked.body());
        }
    }

    private static boolean ready() {
        try {
            return send("GET", "/health/ready", "").statusCode() == 200;
        } catch (Exception e) {
            throw new AssertionError("the readiness probe failed", e);
        }
    }

    private static HttpResponse<String> send(String method, String path, String json)
            throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(
                                URI.create(
                                        "http://127.0.0.1:" + member.webAddress().getPort() + path))
                        .timeout(ANSWER)
                        .method(method, HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
