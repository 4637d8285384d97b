package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.etcd.EtcdCluster.Role;
import io.etcd.jetcd.KV;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * etcd's JSON gateway on the web port, through a real WebServer: bodies and replies in protobuf's
 * JSON mapping as etcd's grpc-gateway writes them (proto field names, base64 bytes, 64-bit integers
 * as strings), errors in its shape, and bad JSON refused with 400.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();

    /** A gateway answer: its HTTP status and body. */
    record Reply(int status, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void putThenRangeInBase64(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        InetSocketAddress web = cluster.webAddress(member);
        String key = b64("gw/kv/" + role);

        Reply put =
                post(
                        web,
                        "/v3/kv/put",
                        "{\"key\":\"" + key + "\",\"value\":\"" + b64("hello") + "\"}");
        assertEquals(200, put.status(), put.body());
        JsonNode header = put.json().get("header");
        assertEquals(Long.toUnsignedString(cluster.clusterId()), header.get("cluster_id").asText());
        assertEquals(
                Long.toUnsignedString(cluster.memberId(member)), header.get("member_id").asText());
        assertTrue(header.get("revision").isTextual(), "int64 travels as a string: " + header);
        long revision = Long.parseLong(header.get("revision").asText());

        Reply range = post(web, "/v3/kv/range", "{\"key\":\"" + key + "\"}");
        assertEquals(200, range.status(), range.body());
        JsonNode kv = range.json().get("kvs").get(0);
        assertEquals(key, kv.get("key").asText());
        assertEquals(b64("hello"), kv.get("value").asText());
        assertEquals(Long.toString(revision), kv.get("create_revision").asText());
        assertEquals("1", kv.get("version").asText());
        assertEquals("1", range.json().get("count").asText());

        Reply deleted =
                post(web, "/v3/kv/deleterange", "{\"key\":\"" + key + "\",\"prev_kv\":true}");
        assertEquals("1", deleted.json().get("deleted").asText());
        assertEquals(b64("hello"), deleted.json().get("prev_kvs").get(0).get("value").asText());
    }

    @Test
    void txnWithCompareAndBothBranches(EtcdCluster cluster) throws Exception {
        InetSocketAddress web = cluster.webAddress(cluster.member(Role.FOLLOWER));
        String key = b64("gw/txn");
        post(web, "/v3/kv/put", "{\"key\":\"" + key + "\",\"value\":\"" + b64("1") + "\"}");
        String txn =
                "{\"compare\":[{\"key\":\""
                        + key
                        + "\",\"result\":\"EQUAL\",\"target\":\"VALUE\",\"value\":\""
                        + b64("1")
                        + "\"}],"
                        + "\"success\":[{\"request_put\":{\"key\":\""
                        + key
                        + "\",\"value\":\""
                        + b64("2")
                        + "\"}}],"
                        + "\"failure\":[{\"request_range\":{\"key\":\""
                        + key
                        + "\"}}]}";

        Reply first = post(web, "/v3/kv/txn", txn);
        assertEquals(200, first.status(), first.body());
        assertTrue(first.json().get("succeeded").asBoolean());
        assertTrue(first.json().get("responses").get(0).has("response_put"));

        Reply second = post(web, "/v3/kv/txn", txn);
        assertFalse(
                second.json().has("succeeded"),
                "false is a default value, left out: " + second.body());
        assertEquals(
                b64("2"),
                second.json()
                        .get("responses")
                        .get(0)
                        .get("response_range")
                        .get("kvs")
                        .get(0)
                        .get("value")
                        .asText());
    }

    @Test
    void leaseCallsAndKeepAliveResult(EtcdCluster cluster) throws Exception {
        InetSocketAddress web = cluster.webAddress(cluster.member(Role.LEADER));
        Reply grant = post(web, "/v3/lease/grant", "{\"TTL\":\"40\"}");
        assertEquals(200, grant.status(), grant.body());
        String id = grant.json().get("ID").asText();
        assertEquals("40", grant.json().get("TTL").asText());

        Reply keepAlive = post(web, "/v3/lease/keepalive", "{\"ID\":\"" + id + "\"}");
        assertEquals(200, keepAlive.status(), keepAlive.body());
        assertEquals(id, keepAlive.json().get("result").get("ID").asText());
        assertEquals("40", keepAlive.json().get("result").get("TTL").asText());

        Reply timeToLive =
                post(web, "/v3/lease/timetolive", "{\"ID\":\"" + id + "\",\"keys\":true}");
        assertEquals("40", timeToLive.json().get("grantedTTL").asText());
        Reply listed = post(web, "/v3/lease/leases", "");
        assertTrue(listed.body().contains("\"ID\":\"" + id + "\""), listed.body());

        assertEquals(200, post(web, "/v3/kv/lease/revoke", "{\"ID\":\"" + id + "\"}").status());
        Reply again = post(web, "/v3/lease/revoke", "{\"ID\":\"" + id + "\"}");
        assertEquals(404, again.status());
        assertEquals(5, again.json().get("code").asInt());
        assertEquals("etcdserver: requested lease not found", again.json().get("error").asText());
    }

    @Test
    void statusAndCompaction(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        InetSocketAddress web = cluster.webAddress(leader);
        Reply status = post(web, "/v3/maintenance/status", "{}");
        assertEquals(200, status.status(), status.body());
        assertEquals(StatusOperation.ETCD_VERSION, status.json().get("version").asText());
        assertEquals(
                Long.toUnsignedString(cluster.memberId(leader)),
                status.json().get("leader").asText());

        String revision =
                post(web, "/v3/kv/put", "{\"key\":\"" + b64("gw/compact") + "\"}")
                        .json()
                        .get("header")
                        .get("revision")
                        .asText();
        Reply compacted =
                post(
                        web,
                        "/v3/kv/compaction",
                        "{\"revision\":\"" + revision + "\",\"physical\":true}");
        assertEquals(200, compacted.status(), compacted.body());
    }

    @Test
    void badInputIsA400InTheGatewaysShape(EtcdCluster cluster) throws Exception {
        InetSocketAddress web = cluster.webAddress(cluster.member(Role.FOLLOWER));
        for (String body :
                new String[] {
                    "{\"key\":",
                    "[1,2]",
                    "{\"no_such_field\":1}",
                    "{\"key\":\"not base64!\"}",
                    "{\"limit\":\"many\"}"
                }) {
            Reply reply = post(web, "/v3/kv/range", body);
            assertEquals(400, reply.status(), body + " -> " + reply.body());
            JsonNode error = reply.json();
            assertEquals(3, error.get("code").asInt(), reply.body());
            assertTrue(
                    error.get("error")
                            .asText()
                            .startsWith("request body is not a valid etcdserverpb.RangeRequest"),
                    reply.body());
            assertEquals(error.get("error"), error.get("message"));
        }

        Reply empty = post(web, "/v3/kv/range", "");
        assertEquals(400, empty.status());
        assertEquals("etcdserver: key is not provided", empty.json().get("error").asText());
    }

    @Test
    void manyParallelCallsOnBothPortsAllSucceed(EtcdCluster cluster) throws Exception {
        int member = cluster.member(Role.FOLLOWER);
        InetSocketAddress web = cluster.webAddress(member);
        KV kv = cluster.jetcd(member).getKVClient();
        List<CompletableFuture<Integer>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            HttpRequest put =
                    HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + web.getPort() + "/v3/kv/put"))
                            .timeout(Duration.ofSeconds(60))
                            .POST(
                                    HttpRequest.BodyPublishers.ofString(
                                            "{\"key\":\"" + b64("gw/many/http/" + i) + "\"}"))
                            .build();
            calls.add(
                    HTTP.sendAsync(put, HttpResponse.BodyHandlers.ofString())
                            .thenApply(HttpResponse::statusCode));
            calls.add(
                    kv.put(KvApiTest.bytes("gw/many/grpc/" + i), KvApiTest.bytes("v"))
                            .thenApply(response -> 200));
        }
        for (CompletableFuture<Integer> call : calls) {
            assertEquals(200, call.get(60, TimeUnit.SECONDS));
        }
        Reply count =
                post(
                        web,
                        "/v3/kv/range",
                        "{\"key\":\""
                                + b64("gw/many/")
                                + "\",\"range_end\":\""
                                + b64("gw/many0")
                                + "\",\"count_only\":true}");
        assertEquals("200", count.json().get("count").asText());
    }

    static Reply post(InetSocketAddress web, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.getPort() + path))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
        HttpResponse<String> response =
                HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Reply(response.statusCode(), response.body());
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
