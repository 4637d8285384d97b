package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class GateAndHealthTest {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void closedGateAnswers503NamingTheComponentUntilItOpens() throws Exception {
        AtomicBoolean raftReady = new AtomicBoolean(false);
        Gate raft =
                new Gate() {
                    @Override
                    public String name() {
                        return "raft";
                    }

                    @Override
                    public boolean isOpen() {
                        return raftReady.get();
                    }
                };
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.post(
                                        "/raft/appendEntries",
                                        raft,
                                        Servers.TEST,
                                        Handlers.fixed("appended"))));

        HttpResponse<String> closed = post(server, "/raft/appendEntries");
        assertEquals(503, closed.statusCode());
        assertEquals("1", closed.headers().firstValue("Retry-After").orElseThrow());
        assertEquals("application/json", closed.headers().firstValue("Content-Type").orElseThrow());
        JsonNode error = json.readTree(closed.body()).get("error");
        assertEquals("unavailable", error.get("code").asText());
        assertEquals("raft", error.get("component").asText());
        assertEquals("raft is not ready", error.get("message").asText());

        raftReady.set(true);
        HttpResponse<String> open = post(server, "/raft/appendEntries");
        assertEquals(200, open.statusCode());
        assertEquals("appended", open.body());
    }

    @Test
    void liveAnswers200WhileTheProcessRuns() throws Exception {
        WebServer server = servers.start(Servers.settings().build(), List.of());
        HttpResponse<String> live = get(server, "/health/live");
        assertEquals(200, live.statusCode());
        assertEquals(Map.of("status", "live"), json.readValue(live.body(), Map.class));
    }

    @Test
    void readyFollowsTheSuppliedReadinessWithItsDetails() throws Exception {
        AtomicReference<Readiness> readiness =
                new AtomicReference<>(
                        new Readiness(false, Map.of("web", "RUNNING", "raft", "STARTING")));
        WebServer server = servers.start(Servers.settings().build(), List.of(), readiness::get);

        HttpResponse<String> starting = get(server, "/health/ready");
        assertEquals(503, starting.statusCode());
        assertEquals(
                Map.of("web", "RUNNING", "raft", "STARTING"),
                json.readValue(starting.body(), Map.class));

        readiness.set(
                new Readiness(true, Map.of("web", "RUNNING", "raft", "RUNNING", "leader", "n2")));
        HttpResponse<String> serving = get(server, "/health/ready");
        assertEquals(200, serving.statusCode());
        assertEquals(
                Map.of("web", "RUNNING", "raft", "RUNNING", "leader", "n2"),
                json.readValue(serving.body(), Map.class));
    }

    private HttpResponse<String> get(WebServer server, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(Servers.uri(server, path)).build(), BodyHandlers.ofString());
    }

    private HttpResponse<String> post(WebServer server, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(Servers.uri(server, path))
                        .POST(HttpRequest.BodyPublishers.ofString("entries"))
                        .build(),
                BodyHandlers.ofString());
    }
}
