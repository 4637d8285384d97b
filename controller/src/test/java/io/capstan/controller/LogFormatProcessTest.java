package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JSON log format of the real daemon process, chosen by {@code CAPSTAN_LOG_FORMAT} or by {@code
 * capstan.log.format} in its configuration file: every line the process logs is one JSON object
 * with the node id, and a request's access log line carries its request id.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LogFormatProcessTest {
    private static final Duration START = Duration.ofSeconds(60);
    private static final String REQUEST_ID = "log-format-check-1";

    @TempDir Path dir;

    private final ObjectMapper json = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"environment", "file"})
    void everyLineIsAJsonObjectWithNodeAndTheAccessLineHasTheRequestId(String chosenBy)
            throws Exception {
        int port = DaemonProcess.freePort();
        Map<String, String> env =
                new HashMap<>(
                        Map.of(
                                "CAPSTAN_NODE_ID", "n1",
                                "CAPSTAN_DATA_DIR", dir.resolve("data").toString(),
                                "CAPSTAN_WEB_PORT", Integer.toString(port),
                                "CAPSTAN_API_PORT", Integer.toString(DaemonProcess.freePort())));
        List<String> args = new ArrayList<>(List.of("serve"));
        if (chosenBy.equals("environment")) {
            env.put("CAPSTAN_LOG_FORMAT", "json");
        } else {
            Path conf =
                    Files.writeString(dir.resolve("json-logs.conf"), "capstan.log.format = json\n");
            args.addAll(List.of("--config", conf.toString()));
        }
        try (DaemonProcess capstan = DaemonProcess.start(dir, env, args.toArray(String[]::new))) {
            String base = "http://127.0.0.1:" + port;
            assertTrue(
                    capstan.awaitHttpStatus(base + "/health/ready", 200, START),
                    "never became ready; stderr:\n" + capstan.stderr());
            HttpResponse<String> live =
                    HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(URI.create(base + "/health/live"))
                                            .header("X-Request-Id", REQUEST_ID)
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, live.statusCode());
            awaitLogged(capstan, REQUEST_ID);
            capstan.terminate();
            assertEquals(0, capstan.awaitExit(Duration.ofSeconds(30)), capstan.stderr());

            List<JsonNode> lines = new ArrayList<>();
            for (String line : capstan.stderr().split("\n")) {
                if (!line.isBlank()) {
                    JsonNode parsed = json.readTree(line);
                    assertTrue(parsed.isObject(), "not a JSON object: " + line);
                    for (String field : List.of("time", "level", "logger", "thread", "message")) {
                        assertTrue(parsed.hasNonNull(field), "no " + field + " in " + line);
                    }
                    assertEquals("n1", parsed.path("node").asText(), "node of " + line);
                    lines.add(parsed);
                }
            }
            assertTrue(
                    lines.stream()
                            .anyMatch(
                                    l ->
                                            l.get("message")
                                                    .asText()
                                                    .equals("received SIGTERM, stopping")));

            List<JsonNode> access =
                    lines.stream()
                            .filter(l -> REQUEST_ID.equals(l.path("request_id").asText(null)))
                            .toList();
            assertEquals(1, access.size(), "one access line for the request:\n" + capstan.stderr());
            JsonNode line = access.get(0);
            assertEquals("capstan.access.web", line.get("logger").asText());
            assertEquals("INFO", line.get("level").asText());
            assertEquals("GET", line.get("method").asText());
            assertEquals("/health/live", line.get("path").asText());
            assertEquals(200, line.get("status").asInt());
            assertEquals(live.body().length(), line.get("bytes").asLong());
            assertTrue(line.get("duration_ms").isNumber(), line.toString());
            assertTrue(line.get("remote").asText().startsWith("127.0.0.1:"), line.toString());
            assertTrue(
                    line.get("message").asText().startsWith("GET /health/live 200 "),
                    line.toString());
        }
    }

    /** Waits (bounded) until the process has logged {@code text}. */
    private static void awaitLogged(DaemonProcess capstan, String text)
            throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (!capstan.stderr().contains(text)) {
            if (System.nanoTime() > deadline || !capstan.isAlive()) {
                throw new AssertionError("never logged " + text + "; stderr:\n" + capstan.stderr());
            }
            Thread.sleep(50);
        }
    }
}
