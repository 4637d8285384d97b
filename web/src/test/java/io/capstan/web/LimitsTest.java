package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class LimitsTest {

    private static final int SMALL_LIMIT = 4096;

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    /** Routes that read bodies both ways handlers do: non-blocking, and blocking on a worker. */
    private static List<Route> uploadRoutes() {
        Gate gate = Gate.open("test");
        return List.of(
                Route.post(
                        "/echo",
                        gate,
                        Servers.TEST,
                        exchange ->
                                RequestBodies.readFully(
                                        exchange,
                                        (ex, body) ->
                                                ex.getResponseSender()
                                                        .send(ByteBuffer.wrap(body)))),
                new Route(
                        "POST",
                        "/small",
                        gate,
                        SMALL_LIMIT,
                        Servers.TEST,
                        exchange ->
                                RequestBodies.readFully(
                                        exchange,
                                        (ex, body) -> Handlers.text(ex, "read " + body.length))),
                new Route(
                        "POST",
                        "/small-blocking",
                        gate,
                        SMALL_LIMIT,
                        Servers.TEST,
                        Handlers.onWorker(
                                exchange -> {
                                    exchange.startBlocking();
                                    byte[] body = exchange.getInputStream().readAllBytes();
                                    Handlers.text(exchange, "read " + body.length);
                                })),
                new Route(
                        "POST",
                        "/big",
                        gate,
                        4L * 1024 * 1024,
                        Servers.TEST,
                        exchange ->
                                RequestBodies.readFully(
                                        exchange,
                                        (ex, body) -> Handlers.text(ex, "read " + body.length))));
    }

    @Test
    void declaredLengthOverTheLimitIs413BeforeTheBodyIsSent() throws Exception {
        WebServer server = servers.start(Servers.settings().build(), uploadRoutes());
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            // Only the head goes out: an answer proves the server did not wait for the body.
            raw.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 104857600\r\n\r\n");
            RawHttp.Response response = raw.readResponse();
            assertEquals(413, response.status());
            assertPayloadTooLarge(response.body());
            assertEquals("close", response.header("Connection"));
        }
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "POST /small HTTP/1.1\r\nHost: test\r\nContent-Length: "
                            + (SMALL_LIMIT + 1)
                            + "\r\n\r\n");
            assertEquals(413, raw.readResponse().status());
        }
    }

    @Test
    void bodyRefusedByItsLengthIsDiscardedAfterThe413UpToTwiceTheLimit() throws Exception {
        WebServer server = servers.start(Servers.settings().build(), uploadRoutes());
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "POST /small HTTP/1.1\r\nHost: test\r\nContent-Length: "
                            + 2 * SMALL_LIMIT
                            + "\r\n\r\n");
            RawHttp.Response refused = raw.readResponse();
            assertEquals(413, refused.status());
            assertPayloadTooLarge(refused.body());
            assertNotEquals("close", refused.header("Connection"));
            // A client that sends the body anyway is read to its end, not reset: the same
            // connection then carries the next request.
            raw.send(new byte[2 * SMALL_LIMIT]);
            raw.send("POST /small HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nfits");
            RawHttp.Response next = raw.readResponse();
            assertEquals(200, next.status());
            assertEquals("read 4", next.body());
        }
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "POST /small HTTP/1.1\r\nHost: test\r\nContent-Length: "
                            + (2 * SMALL_LIMIT + 1)
                            + "\r\n\r\n");
            RawHttp.Response refused = raw.readResponse();
            assertEquals(413, refused.status());
            assertEquals("close", refused.header("Connection"));
            assertTrue(raw.awaitClosedByServer());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/small", "/small-blocking"})
    void chunkedBodyOverTheRouteLimitIs413(String path) throws Exception {
        WebServer server = servers.start(Servers.settings().build(), uploadRoutes());
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "POST "
                            + path
                            + " HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
            String chunk = "400\r\n" + "x".repeat(1024) + "\r\n";
            // One chunk past the limit and no final chunk: without enforcement the handler would
            // wait forever. Nothing more follows, since a server closing on unread bytes resets the
            // connection.
            for (int i = 0; i <= SMALL_LIMIT / 1024; i++) {
                raw.send(chunk);
            }
            RawHttp.Response response = raw.readResponse();
            assertEquals(413, response.status());
            assertPayloadTooLarge(response.body());
        }
    }

    @Test
    void chunkedBodyWithinTheLimitIsRead() throws Exception {
        WebServer server = servers.start(Servers.settings().build(), uploadRoutes());
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "POST /small HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "5\r\nhello\r\n0\r\n\r\n");
            RawHttp.Response response = raw.readResponse();
            assertEquals(200, response.status());
            assertEquals("read 5", response.body());
        }
    }

    @Test
    void routeLimitOverridesTheDefaultUpwards() throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.maxBodyBytes = 1024 * 1024;
        WebServer server = servers.start(settings.build(), uploadRoutes());
        byte[] body = new byte[3 * 1024 * 1024 / 2];
        Arrays.fill(body, (byte) 'y');
        HttpResponse<String> big =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/big"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                .build(),
                        BodyHandlers.ofString());
        assertEquals(200, big.statusCode());
        assertEquals("read " + body.length, big.body());

        byte[] within = new byte[8 * 1024];
        Arrays.fill(within, (byte) 'z');
        HttpResponse<byte[]> echoed =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/echo"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(within))
                                .build(),
                        BodyHandlers.ofByteArray());
        assertEquals(200, echoed.statusCode());
        assertArrayEquals(within, echoed.body());
    }

    @Test
    void headerBlockOverTheLimitIsRejected() throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.maxHeaderBytes = 1024;
        WebServer server = servers.start(settings.build(), List.of());
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "GET /health/live HTTP/1.1\r\nHost: test\r\nX-Padding: "
                            + "p".repeat(600)
                            + "\r\n\r\n");
            assertEquals(200, raw.readResponse().status());
        }
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    "GET /health/live HTTP/1.1\r\nHost: test\r\nX-Padding: "
                            + "p".repeat(2000)
                            + "\r\n\r\n");
            // Undertow refuses a head it will not parse before any handler runs: 400, then close.
            assertEquals(400, raw.readResponse().status());
            assertTrue(raw.awaitClosedByServer());
        }
    }

    @Test
    void slowlorisConnectionIsClosedWithinTheParseTimeout() throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.requestParseTimeout = Duration.ofSeconds(1);
        WebServer server = servers.start(settings.build(), List.of());
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(15))) {
            raw.send("GET /health/live HTTP/1.1\r\nHost: test\r\n");
            AtomicInteger sent = new AtomicInteger();
            // One header line every 100 ms keeps the connection busy but never finishes the head.
            trickle.scheduleAtFixedRate(
                    () -> {
                        try {
                            raw.send("X-Slow-" + sent.incrementAndGet() + ": y\r\n");
                        } catch (IOException closed) {
                            throw new IllegalStateException("connection closed", closed);
                        }
                    },
                    100,
                    100,
                    TimeUnit.MILLISECONDS);
            long began = System.nanoTime();
            assertTrue(raw.awaitClosedByServer(), "connection still open after 15 s");
            Duration took = Duration.ofNanos(System.nanoTime() - began);
            assertTrue(took.compareTo(Duration.ofSeconds(4)) < 0, "closed only after " + took);
            assertTrue(sent.get() > 3, "the client kept trickling: " + sent.get());
        } finally {
            trickle.shutdownNow();
        }
    }

    @Test
    void idleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.idleTimeout = Duration.ofSeconds(1);
        WebServer server = servers.start(settings.build(), List.of());
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(15))) {
            raw.send("GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n");
            assertEquals(200, raw.readResponse().status());
            long began = System.nanoTime();
            assertTrue(raw.awaitClosedByServer(), "idle connection still open after 15 s");
            Duration took = Duration.ofNanos(System.nanoTime() - began);
            assertTrue(took.compareTo(Duration.ofSeconds(4)) < 0, "closed only after " + took);
        }
    }

    @Test
    void requestsBeyondTheBudgetAndItsQueueGet429WithRetryAfter() throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.test = new AdmissionSettings(1, 1, Duration.ofSeconds(30));
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        WebServer server =
                servers.start(
                        settings.build(),
                        List.of(
                                Route.get(
                                        "/work",
                                        Gate.open("test"),
                                        Servers.TEST,
                                        Handlers.onWorker(
                                                exchange -> {
                                                    entered.countDown();
                                                    assertTrue(release.await(30, TimeUnit.SECONDS));
                                                    Handlers.text(exchange, "worked");
                                                }))));
        try {
            CompletableFuture<HttpResponse<String>> first = getAsync(server, "/work");
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            // The slot is taken: of the next two, one waits in the queue and the other is refused.
            CompletableFuture<HttpResponse<String>> second = getAsync(server, "/work");
            CompletableFuture<HttpResponse<String>> third = getAsync(server, "/work");
            HttpResponse<?> refused =
                    (HttpResponse<?>)
                            CompletableFuture.anyOf(second, third).get(10, TimeUnit.SECONDS);
            assertEquals(429, refused.statusCode());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
            JsonNode error = json.readTree((String) refused.body()).get("error");
            assertEquals("too_many_requests", error.get("code").asText());
            assertEquals("test", error.get("budget").asText());

            // Health probes do not queue behind application requests.
            HttpResponse<String> live =
                    client.send(
                            HttpRequest.newBuilder(Servers.uri(server, "/health/live")).build(),
                            BodyHandlers.ofString());
            assertEquals(200, live.statusCode());

            CompletableFuture<HttpResponse<String>> queued =
                    refused == second.getNow(null) ? third : second;
            assertFalse(queued.isDone(), "the queued request must wait for the slot");
            release.countDown();
            assertEquals("worked", first.get(10, TimeUnit.SECONDS).body());
            assertEquals("worked", queued.get(10, TimeUnit.SECONDS).body());
        } finally {
            release.countDown();
        }
    }

    private CompletableFuture<HttpResponse<String>> getAsync(WebServer server, String path) {
        return client.sendAsync(
                HttpRequest.newBuilder(Servers.uri(server, path)).build(), BodyHandlers.ofString());
    }

    private void assertPayloadTooLarge(String body) throws IOException {
        JsonNode error = json.readTree(body).get("error");
        assertEquals("payload_too_large", error.get("code").asText(), body);
    }
}
