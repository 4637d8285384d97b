package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

@Timeout(60)
class RequestContextTest {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ExecutorService elsewhere = Executors.newSingleThreadExecutor();
    private final CountDownLatch bodyHandlerEntered = new CountDownLatch(1);
    private WebServer server;

    @BeforeEach
    void startServer() throws Exception {
        Servers.Settings settings = Servers.settings();
        // One thread of each kind, so a leftover MDC entry would show on the next request.
        settings.ioThreads = 1;
        settings.workerThreads = 1;
        Gate gate = Gate.open("test");
        server =
                servers.start(
                        settings.build(),
                        List.of(
                                Route.get(
                                        "/mdc/worker",
                                        gate,
                                        Servers.TEST,
                                        Handlers.onWorker(RequestContextTest::answerIdAndThread)),
                                Route.get(
                                        "/mdc/io",
                                        gate,
                                        Servers.TEST,
                                        RequestContextTest::answerIdAndThread),
                                Route.get(
                                        "/mdc/callback",
                                        gate,
                                        Servers.TEST,
                                        this::answerFromCallback),
                                Route.post("/mdc/body", gate, Servers.TEST, this::answerAfterBody),
                                Route.get(
                                        "/mdc/leftover",
                                        gate,
                                        Servers.TEST,
                                        exchange ->
                                                exchange.dispatch(
                                                        SameThreadExecutor.INSTANCE,
                                                        () -> answerThreadsMdc(exchange)))));
    }

    private static String requestId() {
        return MDC.get(RequestContext.MDC_KEY);
    }

    private static void answerIdAndThread(HttpServerExchange exchange) {
        Handlers.text(exchange, requestId() + "|" + exchange.isInIoThread());
    }

    /** Answers from a callback on another executor, run through the request's context. */
    private void answerFromCallback(HttpServerExchange exchange) {
        RequestContext context = RequestContext.of(exchange);
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () ->
                        CompletableFuture.supplyAsync(() -> "computed", elsewhere)
                                .thenAcceptAsync(
                                        value -> Handlers.text(exchange, value + "|" + requestId()),
                                        context.executor(elsewhere)));
    }

    private void answerAfterBody(HttpServerExchange exchange) {
        bodyHandlerEntered.countDown();
        RequestBodies.readFully(
                exchange,
                (ex, body) ->
                        Handlers.text(
                                ex, new String(body, StandardCharsets.UTF_8) + "|" + requestId()));
    }

    /** Answers what plain tasks, not request code, see on the IO and worker threads: no MDC. */
    private static void answerThreadsMdc(HttpServerExchange exchange) {
        CompletableFuture<String> onIo = new CompletableFuture<>();
        CompletableFuture<String> onWorker = new CompletableFuture<>();
        exchange.getIoThread().execute(() -> onIo.complete(requestId()));
        exchange.getConnection().getWorker().execute(() -> onWorker.complete(requestId()));
        onIo.thenCombine(onWorker, (io, worker) -> io + "|" + worker)
                .thenAccept(seen -> Handlers.text(exchange, seen));
    }

    @AfterEach
    void stopExecutor() {
        elsewhere.shutdownNow();
    }

    @Test
    void honoursAValidIncomingIdAndShowsItInTheMdcOfADispatchedHandler() throws Exception {
        HttpResponse<String> response = get("/mdc/worker", "order-7f3a.retry:2");
        assertEquals(
                "order-7f3a.retry:2",
                response.headers().firstValue(RequestContext.HEADER).orElseThrow());
        assertEquals("order-7f3a.retry:2|false", response.body());
    }

    @Test
    void generatesAnIdWhenNoneIsSent() throws Exception {
        HttpResponse<String> first = get("/mdc/io", null);
        HttpResponse<String> second = get("/mdc/io", null);
        String id = first.headers().firstValue(RequestContext.HEADER).orElseThrow();
        UUID.fromString(id);
        assertEquals(id + "|true", first.body());
        assertNotEquals(id, second.headers().firstValue(RequestContext.HEADER).orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"has space", "tab\there", "", "caf\u00e9"})
    void replacesInvalidIds(String offered) throws Exception {
        try (RawHttp raw = new RawHttp(server.address(), Duration.ofSeconds(10))) {
            raw.send(
                    ("GET /mdc/worker HTTP/1.1\r\nHost: test\r\nX-Request-Id: "
                                    + offered
                                    + "\r\n\r\n")
                            .getBytes(StandardCharsets.UTF_8));
            RawHttp.Response response = raw.readResponse();
            assertEquals(200, response.status());
            String id = response.header(RequestContext.HEADER);
            UUID.fromString(id);
            assertEquals(id + "|false", response.body());
        }
    }

    @Test
    void replacesIdsLongerThan128Characters() throws Exception {
        String longest = "a".repeat(RequestContext.MAX_ID_LENGTH);
        assertEquals(
                longest,
                get("/mdc/io", longest).headers().firstValue(RequestContext.HEADER).orElseThrow());
        String tooLong = "a".repeat(RequestContext.MAX_ID_LENGTH + 1);
        String replaced =
                get("/mdc/io", tooLong).headers().firstValue(RequestContext.HEADER).orElseThrow();
        UUID.fromString(replaced);
    }

    @Test
    void contextExecutorRestoresTheIdInAsyncCallbacks() throws Exception {
        HttpResponse<String> response = get("/mdc/callback", "async-1");
        assertEquals("computed|async-1", response.body());
    }

    @Test
    void bodyCallbackRunsWithTheId() throws Exception {
        InetSocketAddress address = server.address();
        try (RawHttp raw = new RawHttp(address, Duration.ofSeconds(10))) {
            raw.send(
                    "POST /mdc/body HTTP/1.1\r\nHost: test\r\nX-Request-Id: body-1\r\nContent-Length: 5\r\n\r\n");
            // The body follows only once the handler waits for it, so the read completes later.
            assertTrue(bodyHandlerEntered.await(10, TimeUnit.SECONDS));
            raw.send("hello");
            RawHttp.Response response = raw.readResponse();
            assertEquals("hello|body-1", response.body());
        }
    }

    @Test
    void mdcIsClearedAfterEachRequestOnIoAndWorkerThreads() throws Exception {
        assertEquals("first|false", get("/mdc/worker", "first").body());
        assertEquals("second|true", get("/mdc/io", "second").body());
        assertEquals("null|null", get("/mdc/leftover", "third").body());
    }

    @Test
    void runAndWrapRestoreWhatTheThreadHadBefore() {
        RequestContext context = new RequestContext("inner", "GET", "/");
        MDC.put(RequestContext.MDC_KEY, "outer");
        try {
            context.wrap(() -> assertEquals("inner", MDC.get(RequestContext.MDC_KEY))).run();
            assertEquals("outer", MDC.get(RequestContext.MDC_KEY));
        } finally {
            MDC.remove(RequestContext.MDC_KEY);
        }
        context.run(() -> assertEquals("inner", MDC.get(RequestContext.MDC_KEY)));
        assertNull(MDC.get(RequestContext.MDC_KEY));
        assertThrows(
                IllegalArgumentException.class, () -> new RequestContext("two words", "GET", "/"));
    }

    private HttpResponse<String> get(String path, String requestId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(Servers.uri(server, path));
        if (requestId != null) {
            request.header(RequestContext.HEADER, requestId);
        }
        return client.send(request.build(), BodyHandlers.ofString());
    }
}
