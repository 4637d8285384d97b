package io.capstan.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class WebServerLifecycleTest {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void startCompletesBoundWithEveryRouteServing() throws Exception {
        WebServer server =
                new WebServer(
                        Servers.settings().build(),
                        List.of(
                                Route.get("/a", Gate.open("t"), Servers.TEST, Handlers.fixed("a")),
                                Route.post(
                                        "/b", Gate.open("t"), Servers.TEST, Handlers.fixed("b"))),
                        () -> new Readiness(true, Map.of()));
        CompletableFuture<InetSocketAddress> started = server.start();
        try {
            assertTrue(
                    started.isDone(),
                    "start() returns a completed future once the listener is bound");
            InetSocketAddress bound = started.get();
            assertNotEquals(0, bound.getPort());
            assertEquals(bound, server.address());
            assertEquals(WebServer.State.RUNNING, server.state());
            // No retry: the first request after the latch must find its route.
            assertEquals("a", get(server, "/a").body());
            HttpResponse<String> b =
                    client.send(
                            HttpRequest.newBuilder(Servers.uri(server, "/b"))
                                    .POST(HttpRequest.BodyPublishers.noBody())
                                    .build(),
                            BodyHandlers.ofString());
            assertEquals("b", b.body());
            assertEquals(200, get(server, "/health/live").statusCode());
        } finally {
            server.stop();
        }
    }

    @Test
    void addressAndSecondStartAreRefusedClearly() throws Exception {
        WebServer server =
                new WebServer(
                        Servers.settings().build(), List.of(), () -> new Readiness(true, Map.of()));
        assertThrows(IllegalStateException.class, server::address);
        server.start().get();
        try {
            IllegalStateException again = assertThrows(IllegalStateException.class, server::start);
            assertTrue(again.getMessage().contains("RUNNING"), again.getMessage());
        } finally {
            server.stop();
        }
    }

    @Test
    void bindFailureNamesHostAndPort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            WebSettings settings = Servers.settings().build().withPort(taken.getLocalPort());
            WebServer server =
                    new WebServer(settings, List.of(), () -> new Readiness(true, Map.of()));

            CompletableFuture<InetSocketAddress> started = server.start();

            ExecutionException failure = assertThrows(ExecutionException.class, started::get);
            assertInstanceOf(IllegalStateException.class, failure.getCause());
            String message = failure.getCause().getMessage();
            assertTrue(message.contains("127.0.0.1:" + taken.getLocalPort()), message);
            assertTrue(message.toLowerCase().contains("in use"), message);
            assertEquals(WebServer.State.FAILED, server.state());
            server.stop();
            assertEquals(WebServer.State.FAILED, server.state());
            assertThrows(IllegalStateException.class, server::start);
        }
    }

    @Test
    void stopDrainsInFlightRequestsThenRefusesConnections() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/slow",
                                        Gate.open("t"),
                                        Servers.TEST,
                                        Handlers.onWorker(
                                                exchange -> {
                                                    entered.countDown();
                                                    assertTrue(release.await(30, TimeUnit.SECONDS));
                                                    Handlers.text(exchange, "done");
                                                }))));
        InetSocketAddress address = server.address();
        CompletableFuture<HttpResponse<String>> inFlight =
                client.sendAsync(
                        HttpRequest.newBuilder(Servers.uri(server, "/slow")).build(),
                        BodyHandlers.ofString());
        assertTrue(entered.await(10, TimeUnit.SECONDS));

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.state() == WebServer.State.STOPPING);

        // A new request while draining is refused with a retryable 503.
        HttpClient other = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> refused =
                other.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/health/live")).build(),
                        BodyHandlers.ofString());
        assertEquals(503, refused.statusCode());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
        assertEquals("shutting_down", json.readTree(refused.body()).at("/error/code").asText());
        assertFalse(stopping.isDone(), "stop() must wait for the request in flight");

        release.countDown();
        HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, finished.statusCode());
        assertEquals("done", finished.body());
        stopping.get(10, TimeUnit.SECONDS);
        assertEquals(WebServer.State.STOPPED, server.state());
        assertThrows(
                ConnectException.class,
                () -> new Socket(address.getAddress(), address.getPort()).close());
    }

    @Test
    void drainTimeoutBoundsStopWhenARequestHangs() throws Exception {
        Servers.Settings settings = Servers.settings();
        settings.drainTimeout = Duration.ofMillis(300);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        WebServer server =
                servers.start(
                        settings.build(),
                        List.of(
                                Route.get(
                                        "/hang",
                                        Gate.open("t"),
                                        Servers.TEST,
                                        Handlers.onWorker(
                                                exchange -> {
                                                    entered.countDown();
                                                    never.await(30, TimeUnit.SECONDS);
                                                    Handlers.text(exchange, "late");
                                                }))));
        CompletableFuture<HttpResponse<String>> hanging =
                client.sendAsync(
                        HttpRequest.newBuilder(Servers.uri(server, "/hang")).build(),
                        BodyHandlers.ofString());
        try {
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            long began = System.nanoTime();
            server.stop();
            Duration took = Duration.ofNanos(System.nanoTime() - began);
            assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "stop took " + took);
            assertEquals(WebServer.State.STOPPED, server.state());
            ExecutionException cut =
                    assertThrows(ExecutionException.class, () -> hanging.get(10, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, cut.getCause());
        } finally {
            never.countDown();
        }
    }

    @Test
    void stopIsIdempotentAndSafeFromManyThreads() throws Exception {
        WebServer server = servers.start(Servers.settings().build(), List.of());
        InetSocketAddress address = server.address();
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            stops.add(
                    CompletableFuture.runAsync(
                            () -> {
                                try {
                                    go.await();
                                } catch (InterruptedException e) {
                                    throw new IllegalStateException(e);
                                }
                                server.stop();
                            }));
        }
        go.countDown();
        CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        assertEquals(WebServer.State.STOPPED, server.state());
        server.stop();
        assertEquals(WebServer.State.STOPPED, server.state());
        assertThrows(
                ConnectException.class,
                () -> new Socket(address.getAddress(), address.getPort()).close());
    }

    @Test
    void stopBeforeStartEndsTheServer() {
        WebServer server =
                new WebServer(
                        Servers.settings().build(), List.of(), () -> new Readiness(true, Map.of()));
        server.stop();
        assertEquals(WebServer.State.STOPPED, server.state());
        assertThrows(IllegalStateException.class, server::start);
    }

    @Test
    void duplicateRoutesAreRejectedAtConstruction() {
        WebSettings settings = Servers.settings().build();
        IllegalArgumentException twice =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new WebServer(
                                        settings,
                                        List.of(
                                                Route.get(
                                                        "/x/{id}",
                                                        Gate.open("t"),
                                                        Servers.TEST,
                                                        Handlers.fixed("1")),
                                                Route.get(
                                                        "/x/{other}",
                                                        Gate.open("t"),
                                                        Servers.TEST,
                                                        Handlers.fixed("2"))),
                                        () -> new Readiness(true, Map.of())));
        assertTrue(twice.getMessage().contains("GET /x/{other}"), twice.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new WebServer(
                                settings,
                                List.of(
                                        Route.get(
                                                "/health/live",
                                                Gate.open("t"),
                                                Servers.TEST,
                                                Handlers.fixed("mine"))),
                                () -> new Readiness(true, Map.of())));
    }

    private HttpResponse<String> get(WebServer server, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(Servers.uri(server, path)).build(), BodyHandlers.ofString());
    }
}
