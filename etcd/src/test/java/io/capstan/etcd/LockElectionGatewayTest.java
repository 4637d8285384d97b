package io.capstan.etcd;

import static io.capstan.etcd.GatewayTest.post;
import static io.capstan.etcd.LockApiTest.keys;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.GatewayTest.Reply;
import io.etcd.jetcd.Client;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Lock and Election on etcd's JSON gateway paths ({@code /v3/lock/...}, {@code /v3/election/...}):
 * the calls and their answers in protobuf's JSON mapping, a waiting lock answered on Unlock,
 * Observe streamed as JSON lines, and etcd's errors in grpc-gateway's shape: code 2 (UNKNOWN) as
 * etcd answers them, with a 4xx where etcd's gateway answers 500 (the request is refused).
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LockElectionGatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();

    @Test
    void lockWaitsForUnlockOnTheGateway(EtcdCluster cluster) throws Exception {
        int member = cluster.member(Role.FOLLOWER);
        InetSocketAddress web = cluster.webAddress(member);
        Client client = cluster.jetcd(member);
        String a = grant(web);
        String b = grant(web);

        Reply first =
                post(
                        web,
                        "/v3/lock/lock",
                        "{\"name\":\"" + b64("gw/lock") + "\",\"lease\":\"" + a + "\"}");
        assertEquals(200, first.status(), first.body());
        String firstKey = first.json().get("key").asText();
        assertEquals("gw/lock/" + Long.toHexString(Long.parseLong(a)), text(firstKey));
        assertTrue(first.json().get("header").get("revision").isTextual(), first.body());

        CompletableFuture<HttpResponse<String>> second =
                HTTP.sendAsync(
                        request(
                                "/v3/lock/lock",
                                web,
                                "{\"name\":\"" + b64("gw/lock") + "\",\"lease\":\"" + b + "\"}"),
                        HttpResponse.BodyHandlers.ofString());
        await().atMost(EtcdCluster.WAIT).until(() -> keys(client, "gw/lock").size() == 2);
        assertFalse(second.isDone());

        Reply unlocked = post(web, "/v3/lock/unlock", "{\"key\":\"" + firstKey + "\"}");
        assertEquals(200, unlocked.status(), unlocked.body());
        HttpResponse<String> got = second.get(30, TimeUnit.SECONDS);
        assertEquals(200, got.statusCode(), got.body());
        assertEquals(
                "gw/lock/" + Long.toHexString(Long.parseLong(b)),
                text(JSON.readTree(got.body()).get("key").asText()));
        post(
                web,
                "/v3/lock/unlock",
                "{\"key\":\"" + JSON.readTree(got.body()).get("key").asText() + "\"}");

        Reply noLease =
                post(
                        web,
                        "/v3/lock/lock",
                        "{\"name\":\"" + b64("gw/lock") + "\",\"lease\":\"999999\"}");
        assertError(noLease, 404, "etcdserver: requested lease not found");
        assertEquals(List.of(), keys(client, "gw/lock"));
    }

    @Test
    void electionCallsAndObserveLines(EtcdCluster cluster) throws Exception {
        int member = cluster.member(Role.LEADER);
        InetSocketAddress web = cluster.webAddress(member);
        String name = b64("gw/election");
        String lease = grant(web);

        Reply none = post(web, "/v3/election/leader", "{\"name\":\"" + name + "\"}");
        assertError(none, 404, "election: no leader");

        Reply campaign =
                post(
                        web,
                        "/v3/election/campaign",
                        "{\"name\":\""
                                + name
                                + "\",\"lease\":\""
                                + lease
                                + "\",\"value\":\""
                                + b64("one")
                                + "\"}");
        assertEquals(200, campaign.status(), campaign.body());
        JsonNode leader = campaign.json().get("leader");
        assertEquals(name, leader.get("name").asText());
        assertEquals(
                "gw/election/" + Long.toHexString(Long.parseLong(lease)),
                text(leader.get("key").asText()));
        assertEquals(lease, leader.get("lease").asText());
        assertEquals(
                campaign.json().get("header").get("revision").asText(), leader.get("rev").asText());

        HttpResponse<Stream<String>> observe =
                HTTP.send(
                        request("/v3/election/observe", web, "{\"name\":\"" + name + "\"}"),
                        HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, observe.statusCode());
        try (Stream<String> lines = observe.body()) {
            Iterator<String> it = lines.iterator();
            assertEquals(
                    b64("one"),
                    JSON.readTree(it.next()).get("result").get("kv").get("value").asText());

            Reply proclaim =
                    post(
                            web,
                            "/v3/election/proclaim",
                            "{\"leader\":" + leader + ",\"value\":\"" + b64("two") + "\"}");
            assertEquals(200, proclaim.status(), proclaim.body());
            JsonNode line = JSON.readTree(it.next()).get("result");
            assertEquals(b64("two"), line.get("kv").get("value").asText());
            assertEquals(
                    proclaim.json().get("header").get("revision").asText(),
                    line.get("kv").get("mod_revision").asText());
        }

        Reply current = post(web, "/v3/election/leader", "{\"name\":\"" + name + "\"}");
        assertEquals(b64("two"), current.json().get("kv").get("value").asText());
        assertEquals(200, post(web, "/v3/election/resign", "{\"leader\":" + leader + "}").status());
        assertError(
                post(
                        web,
                        "/v3/election/proclaim",
                        "{\"leader\":" + leader + ",\"value\":\"" + b64("x") + "\"}"),
                409,
                "election: not leader");
        assertError(
                post(web, "/v3/election/resign", "{}"), 400, "\"leader\" field must be provided");
        assertError(
                post(web, "/v3/election/leader", "{\"name\":\"" + name + "\"}"),
                404,
                "election: no leader");

        Reply bad = post(web, "/v3/election/observe", "{\"name\":1");
        assertEquals(400, bad.status(), bad.body());
        assertEquals(3, bad.json().get("code").asInt());
    }

    /** The concurrency services' refusals: code 2 (UNKNOWN) as etcd's, the HTTP status a 4xx. */
    private static void assertError(Reply reply, int status, String message) throws Exception {
        assertEquals(status, reply.status(), reply.body());
        assertEquals(2, reply.json().get("code").asInt(), reply.body());
        assertEquals(message, reply.json().get("error").asText());
        assertEquals(message, reply.json().get("message").asText());
    }

    private static String grant(InetSocketAddress web) throws Exception {
        Reply granted = post(web, "/v3/lease/grant", "{\"TTL\":\"60\"}");
        assertEquals(200, granted.status(), granted.body());
        return granted.json().get("ID").asText();
    }

    private static HttpRequest request(String path, InetSocketAddress web, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.getPort() + path))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }
}
