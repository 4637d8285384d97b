package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.MDC;

@Timeout(60)
class Http2Test {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    private final ObjectMapper json = new ObjectMapper();
    private WebServer server;

    @BeforeEach
    void startServer() throws Exception {
        Gate gate = Gate.open("test");
        server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/id",
                                        gate,
                                        Servers.TEST,
                                        Handlers.onWorker(
                                                exchange ->
                                                        Handlers.text(
                                                                exchange,
                                                                MDC.get(RequestContext.MDC_KEY)))),
                                Route.post(
                                        "/echo",
                                        gate,
                                        Servers.TEST,
                                        exchange ->
                                                RequestBodies.readFully(
                                                        exchange,
                                                        (ex, body) ->
                                                                ex.getResponseSender()
                                                                        .send(
                                                                                ByteBuffer.wrap(
                                                                                        body)))),
                                new Route(
                                        "POST",
                                        "/small",
                                        gate,
                                        4096,
                                        Servers.TEST,
                                        exchange ->
                                                RequestBodies.readFully(
                                                        exchange,
                                                        (ex, body) ->
                                                                Handlers.text(
                                                                        ex,
                                                                        "read " + body.length)))));
    }

    @Test
    void cleartextConnectionUpgradesToHttp2() throws Exception {
        HttpResponse<String> response =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/health/live")).build(),
                        BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, response.version());
        assertEquals("{\"status\":\"live\"}", response.body());
    }

    @Test
    void multiplexedRequestsEachKeepTheirOwnContext() throws Exception {
        upgrade();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            responses.add(
                    client.sendAsync(
                            HttpRequest.newBuilder(Servers.uri(server, "/id")).build(),
                            BodyHandlers.ofString()));
        }
        Set<String> ids = new HashSet<>();
        for (CompletableFuture<HttpResponse<String>> future : responses) {
            HttpResponse<String> response = future.get(30, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode());
            assertEquals(HttpClient.Version.HTTP_2, response.version());
            assertEquals(
                    response.headers().firstValue(RequestContext.HEADER).orElseThrow(),
                    response.body());
            ids.add(response.body());
        }
        assertEquals(100, ids.size());
    }

    @Test
    void requestBodiesTravelOverHttp2() throws Exception {
        upgrade();
        byte[] body = new byte[200_000];
        new Random(7).nextBytes(body);
        HttpResponse<byte[]> response =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/echo"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                .build(),
                        BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, response.version());
        assertArrayEquals(body, response.body());
    }

    @Test
    void bodyLimitHoldsOverHttp2WithAndWithoutALength() throws Exception {
        upgrade();
        byte[] body = new byte[64 * 1024];
        HttpResponse<String> declared =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/small"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                .build(),
                        BodyHandlers.ofString());
        assertEquals(413, declared.statusCode());
        assertEquals(
                "payload_too_large", json.readTree(declared.body()).at("/error/code").asText());

        HttpResponse<String> streamed =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/small"))
                                .POST(
                                        HttpRequest.BodyPublishers.ofInputStream(
                                                () -> new ByteArrayInputStream(body)))
                                .build(),
                        BodyHandlers.ofString());
        assertEquals(413, streamed.statusCode());
        assertEquals(
                "payload_too_large", json.readTree(streamed.body()).at("/error/code").asText());

        // The connection still serves: an oversized stream ends only its own stream.
        HttpResponse<String> after =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/small"))
                                .POST(HttpRequest.BodyPublishers.ofString("fits"))
                                .build(),
                        BodyHandlers.ofString());
        assertEquals("read 4", after.body());
        assertEquals(HttpClient.Version.HTTP_2, after.version());
    }

    /**
     * The JDK client upgrades on a request without a body; later requests share that connection.
     */
    private void upgrade() throws Exception {
        HttpResponse<String> first =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/health/live")).build(),
                        BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, first.version());
    }
}
