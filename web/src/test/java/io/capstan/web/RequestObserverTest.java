package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Every finished request reaches the observer once and gets one access log line, whoever answered
 * it.
 */
@Timeout(60)
class RequestObserverTest {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final BlockingQueue<CompletedRequest> observed = new LinkedBlockingQueue<>();
    private final ListAppender<ILoggingEvent> accessLines = new ListAppender<>();
    private final Logger accessLog = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);

    @BeforeEach
    void captureAccessLog() {
        accessLines.start();
        accessLog.addAppender(accessLines);
    }

    @AfterEach
    void releaseAccessLog() {
        accessLog.detachAppender(accessLines);
    }

    @Test
    void routedRequestIsReportedWithItsTemplateStatusBytesAndRequestId() throws Exception {
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/things/{id}",
                                        Gate.open("things"),
                                        Servers.TEST,
                                        Handlers.fixed("thing 7"))),
                        observed::add);

        HttpResponse<String> response =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/things/7?full=1"))
                                .header(RequestContext.HEADER, "req-42")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());

        CompletedRequest done = next();
        assertEquals("/things/{id}", done.route());
        assertEquals("things", done.owner());
        assertEquals("GET", done.method());
        assertEquals("/things/7", done.path());
        assertEquals(200, done.status());
        assertEquals("thing 7".length(), done.bytesSent());
        assertEquals("req-42", done.requestId());
        assertTrue(done.remote().startsWith("127.0.0.1:"), done.remote());
        assertTrue(done.durationNanos() > 0);
        assertNull(observed.poll(200, TimeUnit.MILLISECONDS), "one report per request");

        ILoggingEvent line = accessLine();
        assertEquals("capstan.access.things", line.getLoggerName());
        assertEquals("req-42", line.getMDCPropertyMap().get(RequestContext.MDC_KEY));
        assertTrue(
                line.getFormattedMessage().startsWith("GET /things/7 200 7 bytes "),
                line.getFormattedMessage());
        assertTrue(
                line.getFormattedMessage().endsWith(" ms from " + done.remote()),
                line.getFormattedMessage());
        assertEquals(1, accessLines.list.size());
    }

    @Test
    void requestsNoRouteMatchedShareOneRouteValue() throws Exception {
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/things/{id}",
                                        Gate.open("things"),
                                        Servers.TEST,
                                        Handlers.fixed("thing"))),
                        observed::add);

        assertEquals(
                404,
                client.send(
                                HttpRequest.newBuilder(Servers.uri(server, "/nothing/here"))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode());
        CompletedRequest notFound = next();
        assertEquals(CompletedRequest.UNMATCHED, notFound.route());
        assertEquals("web", notFound.owner());
        assertEquals(404, notFound.status());
        assertEquals("capstan.access.web", accessLine().getLoggerName());

        assertEquals(
                405,
                client.send(
                                HttpRequest.newBuilder(Servers.uri(server, "/things/1"))
                                        .POST(HttpRequest.BodyPublishers.noBody())
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode());
        CompletedRequest wrongMethod = next();
        assertEquals(CompletedRequest.UNMATCHED, wrongMethod.route());
        assertEquals(405, wrongMethod.status());
        assertEquals("POST", wrongMethod.method());
    }

    @Test
    void answersOfTheWebLayerItselfAreReportedToo() throws Exception {
        AtomicBoolean open = new AtomicBoolean(false);
        Gate raft =
                new Gate() {
                    @Override
                    public String name() {
                        return "raft";
                    }

                    @Override
                    public boolean isOpen() {
                        return open.get();
                    }
                };
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.post(
                                        "/raft/append", raft, Servers.TEST, Handlers.fixed("ok"))),
                        observed::add);

        HttpResponse<String> closed =
                client.send(
                        HttpRequest.newBuilder(Servers.uri(server, "/raft/append"))
                                .POST(HttpRequest.BodyPublishers.ofString("x"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(503, closed.statusCode());
        CompletedRequest unavailable = next();
        assertEquals("/raft/append", unavailable.route());
        assertEquals("raft", unavailable.owner());
        assertEquals(503, unavailable.status());
        assertEquals(closed.body().length(), unavailable.bytesSent());
        assertEquals(
                closed.headers().firstValue(RequestContext.HEADER).orElseThrow(),
                unavailable.requestId());
    }

    @Test
    void aFailingObserverDoesNotHurtTheResponse() throws Exception {
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/x",
                                        Gate.open("x"),
                                        Servers.TEST,
                                        Handlers.fixed("fine"))),
                        request -> {
                            observed.add(request);
                            throw new IllegalStateException("observer broke");
                        });
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response =
                    client.send(
                            HttpRequest.newBuilder(Servers.uri(server, "/x")).build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("fine", response.body());
            assertEquals(200, next().status());
        }
    }

    private CompletedRequest next() throws InterruptedException {
        CompletedRequest done = observed.poll(10, TimeUnit.SECONDS);
        if (done == null) {
            throw new AssertionError("no request was reported within 10 s");
        }
        return done;
    }

    /** The access line is written just before the observer is told, on the same thread. */
    private ILoggingEvent accessLine() {
        assertTrue(accessLines.list.size() >= 1, "an access log line");
        return accessLines.list.get(accessLines.list.size() - 1);
    }
}
