package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /health/ready?check=NAME}: the named checks alone decide the status. */
@Timeout(60)
class ReadinessChecksTest {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    private WebServer server() throws Exception {
        Map<String, Boolean> checks = new LinkedHashMap<>();
        checks.put("web", true);
        checks.put("raft", true);
        checks.put("leader", false);
        return servers.start(
                Servers.settings().build(),
                List.of(),
                () -> new Readiness(false, Map.of("status", "not_ready"), checks));
    }

    @Test
    void withoutACheckTheWholeReadinessAnswers() throws Exception {
        HttpResponse<String> whole = get(server(), "/health/ready");

        assertEquals(503, whole.statusCode());
        assertEquals(Map.of("status", "not_ready"), json.readValue(whole.body(), Map.class));
    }

    @Test
    void passingChecksAnswer200WithEachResult() throws Exception {
        HttpResponse<String> passing = get(server(), "/health/ready?check=web&check=raft");

        assertEquals(200, passing.statusCode(), passing.body());
        JsonNode body = json.readTree(passing.body());
        assertEquals("ready", body.get("status").asText());
        assertEquals(
                Map.of("web", "pass", "raft", "pass"),
                json.convertValue(body.get("checks"), Map.class));
    }

    @Test
    void oneFailingCheckAnswers503NamingIt() throws Exception {
        HttpResponse<String> failing = get(server(), "/health/ready?check=raft,leader");

        assertEquals(503, failing.statusCode(), failing.body());
        JsonNode body = json.readTree(failing.body());
        assertEquals("not_ready", body.get("status").asText());
        assertEquals(
                Map.of("raft", "pass", "leader", "fail"),
                json.convertValue(body.get("checks"), Map.class));
    }

    @Test
    void anUnknownCheckIsABadRequestListingTheKnownOnes() throws Exception {
        HttpResponse<String> unknown = get(server(), "/health/ready?check=web&check=disk");

        assertEquals(400, unknown.statusCode(), unknown.body());
        JsonNode error = json.readTree(unknown.body()).get("error");
        assertEquals("unknown_check", error.get("code").asText());
        assertEquals(
                "no check named 'disk'; known: web, raft, leader", error.get("message").asText());
        assertEquals(
                List.of("web", "raft", "leader"),
                json.convertValue(error.get("checks"), List.class));
    }

    private HttpResponse<String> get(WebServer server, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(Servers.uri(server, path)).build(), BodyHandlers.ofString());
    }
}
