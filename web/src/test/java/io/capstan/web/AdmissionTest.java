package io.capstan.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Admission through a budget on a real server: every path by which a permit or a queue place comes
 * back (completion, a handler that throws, the deadline, a client that leaves while queued or while
 * running, over HTTP/1.1 and HTTP/2, the server's stop), and that budgets never block one another.
 * Handlers of {@code /hold} (having read the body of a POST, as real handlers do) never answer on
 * their own: only a permit that comes back by another path lets the next request in.
 */
@Timeout(60)
class AdmissionTest {

    private static final Duration SOON = Duration.ofSeconds(10);

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient http1 =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final HttpClient http2 =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    private final ObjectMapper json = new ObjectMapper();

    /** Requests of {@code /hold} that reached their handler, which holds them open. */
    private final Queue<HttpServerExchange> held = new ConcurrentLinkedQueue<>();

    private final Semaphore entered = new Semaphore(0);
    private final AtomicInteger answered = new AtomicInteger();
    private final Queue<CompletedRequest> completed = new ConcurrentLinkedQueue<>();

    @AfterEach
    void answerHeld() {
        answerAllHeld();
    }

    private WebServer start(AdmissionSettings test) throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.test = test;
        Gate gate = Gate.open("test");
        return servers.start(
                settings.build(),
                List.of(
                        Route.get("/hold", gate, Servers.TEST, this::hold),
                        Route.post(
                                "/hold",
                                gate,
                                Servers.TEST,
                                exchange ->
                                        RequestBodies.readFully(exchange, (ex, body) -> hold(ex))),
                        Route.get("/ok", gate, Servers.TEST, Handlers.fixed("ok")),
                        Route.get(
                                "/slow",
                                gate,
                                Servers.TEST,
                                Handlers.onWorker(
                                        exchange -> {
                                            Thread.sleep(1500);
                                            Handlers.text(exchange, "slow");
                                        })),
                        Route.get(
                                "/fail",
                                gate,
                                Servers.TEST,
                                exchange -> {
                                    throw new IllegalStateException("handler failed on purpose");
                                })),
                completed::add);
    }

    /** A request whose client left while it waited is logged, once its exchange ends, as 499. */
    private void awaitLoggedAsClientClosed() {
        await().atMost(SOON)
                .untilAsserted(
                        () ->
                                assertEquals(
                                        1,
                                        completed.stream()
                                                .filter(
                                                        r ->
                                                                r.status()
                                                                        == ExchangeAdmission
                                                                                .CLIENT_CLOSED)
                                                .count(),
                                        "499s"));
    }

    private void hold(HttpServerExchange exchange) {
        held.add(exchange);
        entered.release();
        // Keeps the exchange open after this call returns; nothing ends it but answerAllHeld().
        exchange.dispatch(SameThreadExecutor.INSTANCE, () -> {});
    }

    private void answerAllHeld() {
        for (HttpServerExchange exchange; (exchange = held.poll()) != null; ) {
            HttpServerExchange answer = exchange;
            try {
                answer.getIoThread()
                        .execute(
                                () -> {
                                    answered.incrementAndGet();
                                    Handlers.text(answer, "held");
                                });
            } catch (RejectedExecutionException stopped) {
                // The server stopped; its connections are closed.
            }
        }
    }

    private static AdmissionBudget budget(WebServer server) {
        return server.admissionBudgets().get(0);
    }

    private void awaitEntered(int count) throws InterruptedException {
        assertTrue(
                entered.tryAcquire(count, SOON.toSeconds(), TimeUnit.SECONDS),
                "requests reaching the handler");
    }

    private static void awaitGauges(WebServer server, int inUse, int queued) {
        await().atMost(SOON)
                .untilAsserted(
                        () -> {
                            assertEquals(inUse, budget(server).inUse(), "permits in use");
                            assertEquals(queued, budget(server).queued(), "requests queued");
                        });
    }

    private CompletableFuture<HttpResponse<String>> get(
            HttpClient client, WebServer server, String path) {
        return client.sendAsync(
                HttpRequest.newBuilder(Servers.uri(server, path)).build(), BodyHandlers.ofString());
    }

    /**
     * Lets the held requests answer; {@code response} is one of them, and every permit comes back.
     */
    private void assertHeldAnswered(
            WebServer server, CompletableFuture<HttpResponse<String>> response) throws Exception {
        answerAllHeld();
        assertEquals("held", response.get(SOON.toSeconds(), TimeUnit.SECONDS).body());
        awaitGauges(server, 0, 0);
    }

    private JsonNode error(HttpResponse<String> response) throws Exception {
        return json.readTree(response.body()).get("error");
    }

    @Test
    void aQueuedRequestIsRefusedWith429AtItsDeadline() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofMillis(300)));
        CompletableFuture<HttpResponse<String>> first = get(http1, server, "/hold");
        awaitEntered(1);
        long began = System.nanoTime();
        HttpResponse<String> refused =
                get(http1, server, "/hold").get(SOON.toSeconds(), TimeUnit.SECONDS);
        assertTrue(
                System.nanoTime() - began >= Duration.ofMillis(300).toNanos(),
                "refused before its deadline");
        assertEquals(429, refused.statusCode());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
        assertEquals("too_many_requests", error(refused).get("code").asText());
        assertEquals("test", error(refused).get("budget").asText());
        assertEquals(1, budget(server).refused(AdmissionBudget.Refusal.TIMED_OUT));
        awaitGauges(server, 1, 0);

        assertHeldAnswered(server, first);
    }

    @Test
    void aHandlerThatThrowsGivesItsPermitBack() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 0, Duration.ofSeconds(5)));
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> failed =
                    get(http1, server, "/fail").get(SOON.toSeconds(), TimeUnit.SECONDS);
            assertEquals(500, failed.statusCode());
            awaitGauges(server, 0, 0);
        }
        assertEquals(
                "ok", get(http1, server, "/ok").get(SOON.toSeconds(), TimeUnit.SECONDS).body());
    }

    /**
     * A GET, and a POST whose small body came with its head: either way the queue sees the client
     * leave.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n",
                "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            })
    void anHttp11ClientThatLeavesWhileQueuedGivesItsPlaceBack(String request) throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)));
        CompletableFuture<HttpResponse<String>> first = get(http1, server, "/hold");
        awaitEntered(1);
        try (RawHttp leaving = new RawHttp(server.address(), SOON)) {
            leaving.send(request);
            awaitGauges(server, 1, 1);
        }
        // Long before its 30 s deadline.
        awaitGauges(server, 1, 0);
        awaitLoggedAsClientClosed();
        CompletableFuture<HttpResponse<String>> next = get(http1, server, "/hold");
        awaitGauges(server, 1, 1);
        answerAllHeld();
        awaitEntered(1);
        answerAllHeld();
        assertEquals("held", first.get(SOON.toSeconds(), TimeUnit.SECONDS).body());
        assertEquals("held", next.get(SOON.toSeconds(), TimeUnit.SECONDS).body());
        assertEquals(2, answered.get(), "the request whose client left never reached its handler");
        assertEquals(0, budget(server).refused(AdmissionBudget.Refusal.TIMED_OUT));
        awaitGauges(server, 0, 0);
    }

    @Test
    void anHttp11ClientThatLeavesWhileRunningGivesItsPermitBack() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)));
        try (RawHttp leaving = new RawHttp(server.address(), SOON)) {
            leaving.send("POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
            awaitEntered(1);
        }
        CompletableFuture<HttpResponse<String>> next = get(http1, server, "/hold");
        // The first handler never answers: only its client's leaving lets the second in.
        awaitEntered(1);
        awaitGauges(server, 1, 0);
        assertHeldAnswered(server, next);
        // The first one's exchange ended with its connection: a server's stop does not wait for it.
        await().atMost(SOON)
                .untilAsserted(() -> assertEquals(2, completed.size(), completed.toString()));
    }

    @Test
    void anHttp2StreamResetWhileQueuedGivesItsPlaceBack() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)));
        upgrade(server);
        CompletableFuture<HttpResponse<String>> first = get(http2, server, "/hold");
        awaitEntered(1);
        CompletableFuture<HttpResponse<String>> leaving = get(http2, server, "/hold");
        awaitGauges(server, 1, 1);
        leaving.cancel(true);
        awaitGauges(server, 1, 0);
        awaitLoggedAsClientClosed();
        answerAllHeld();
        HttpResponse<String> answer = first.get(SOON.toSeconds(), TimeUnit.SECONDS);
        assertEquals(HttpClient.Version.HTTP_2, answer.version());
        assertEquals("held", answer.body());
        awaitGauges(server, 0, 0);
        assertEquals(1, answered.get(), "the reset request never reached its handler");
    }

    @Test
    void anHttp2StreamResetWhileRunningGivesItsPermitBack() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)));
        upgrade(server);
        CompletableFuture<HttpResponse<String>> leaving = get(http2, server, "/hold");
        awaitEntered(1);
        CompletableFuture<HttpResponse<String>> next = get(http2, server, "/hold");
        awaitGauges(server, 1, 1);
        leaving.cancel(true);
        awaitEntered(1);
        assertHeldAnswered(server, next);
    }

    @Test
    void stoppingRefusesWaitersAndReturnsEveryPermit() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)));
        get(http1, server, "/hold");
        awaitEntered(1);
        CompletableFuture<HttpResponse<String>> waiting = get(http1, server, "/hold");
        awaitGauges(server, 1, 1);
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(server::stop);
        HttpResponse<String> refused = waiting.get(SOON.toSeconds(), TimeUnit.SECONDS);
        assertEquals(503, refused.statusCode());
        assertEquals("shutting_down", error(refused).get("code").asText());
        stopped.get(SOON.toSeconds(), TimeUnit.SECONDS);
        assertEquals(
                0,
                budget(server).inUse(),
                "the held request's connection is closed: its permit is back");
        assertEquals(0, budget(server).queued());
    }

    /**
     * Bytes of a pipelined request read while looking for the client's close are handed back: the
     * request behind a running one, and the one behind a queued one, are answered in order.
     */
    @Test
    void pipelinedRequestsAreServedInOrder() throws Exception {
        WebServer server = start(new AdmissionSettings(1, 1, Duration.ofSeconds(30)));
        try (RawHttp pipelining = new RawHttp(server.address(), SOON)) {
            pipelining.send(
                    "GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\n\r\n");
            RawHttp.Response slow = pipelining.readResponse();
            assertEquals("slow", slow.body());
            assertEquals("ok", pipelining.readResponse().body());
        }
        CompletableFuture<HttpResponse<String>> holding = get(http1, server, "/hold");
        awaitEntered(1);
        try (RawHttp pipelining = new RawHttp(server.address(), SOON)) {
            pipelining.send(
                    "GET /ok HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\nX-Second: y\r\n\r\n");
            awaitGauges(server, 1, 1);
            // Long enough for several looks at the connection while the first request waits.
            Thread.sleep(4 * WebServer.LIVENESS_CHECK_MILLIS);
            assertEquals(1, budget(server).queued(), "a pipelining client has not left");
            answerAllHeld();
            assertEquals("ok", pipelining.readResponse().body());
            assertEquals("ok", pipelining.readResponse().body());
        }
        assertEquals("held", holding.get(SOON.toSeconds(), TimeUnit.SECONDS).body());
        awaitGauges(server, 0, 0);
    }

    @Test
    void budgetsDoNotBlockOneAnother() throws Exception {
        Servers.Settings settings = Servers.settings();
        Gate gate = Gate.open("test");
        WebServer server =
                servers.start(
                        new WebSettings(
                                "127.0.0.1",
                                0,
                                2,
                                8,
                                1 << 20,
                                16 << 10,
                                settings.requestParseTimeout,
                                settings.idleTimeout,
                                settings.drainTimeout,
                                Map.of(
                                        "busy", new AdmissionSettings(1, 0, Duration.ofSeconds(5)),
                                        "other",
                                                new AdmissionSettings(
                                                        1, 0, Duration.ofSeconds(5)))),
                        List.of(
                                Route.get("/busy", gate, Admission.budget("busy"), this::hold),
                                Route.get(
                                        "/other",
                                        gate,
                                        Admission.budget("other"),
                                        Handlers.fixed("other")),
                                Route.get(
                                        "/exempt",
                                        gate,
                                        Admission.EXEMPT,
                                        Handlers.fixed("exempt"))));
        get(http1, server, "/busy");
        awaitEntered(1);
        assertEquals(
                429,
                get(http1, server, "/busy").get(SOON.toSeconds(), TimeUnit.SECONDS).statusCode());
        assertEquals(
                "other",
                get(http1, server, "/other").get(SOON.toSeconds(), TimeUnit.SECONDS).body());
        assertEquals(
                "exempt",
                get(http1, server, "/exempt").get(SOON.toSeconds(), TimeUnit.SECONDS).body());
        assertEquals(
                200,
                get(http1, server, "/health/ready")
                        .get(SOON.toSeconds(), TimeUnit.SECONDS)
                        .statusCode());
        assertEquals(
                List.of("busy", "other"),
                server.admissionBudgets().stream().map(AdmissionBudget::name).toList());
    }

    @Test
    void aRouteMustNameAConfiguredBudget() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new WebServer(
                                        Servers.settings().build(),
                                        List.of(
                                                Route.get(
                                                        "/x",
                                                        Gate.open("x"),
                                                        Admission.budget("nope"),
                                                        Handlers.fixed("x"))),
                                        () -> new Readiness(true, Map.of())));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }

    private void upgrade(WebServer server) throws Exception {
        HttpResponse<String> first =
                http2.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/health/live")).build(),
                        BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, first.version());
    }
}
