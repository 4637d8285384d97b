package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

@Timeout(60)
class RoutingAndErrorsTest {

    @RegisterExtension final Servers servers = new Servers();

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();
    private final Logger errorLog = (Logger) LoggerFactory.getLogger(JsonErrorPages.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private WebServer server;

    @BeforeEach
    void startServer() throws Exception {
        logged.start();
        errorLog.addAppender(logged);
        Gate gate = Gate.open("test");
        server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/items/{id}",
                                        gate,
                                        Servers.TEST,
                                        exchange ->
                                                Handlers.text(
                                                        exchange,
                                                        exchange.getPathParameters()
                                                                .get("id")
                                                                .getFirst())),
                                new Route(
                                        "PUT",
                                        "/items/{id}",
                                        gate,
                                        0,
                                        Servers.TEST,
                                        Handlers.fixed("put")),
                                Route.get(
                                        "/items/special",
                                        gate,
                                        Servers.TEST,
                                        Handlers.fixed("special")),
                                Route.get(
                                        "/validate",
                                        gate,
                                        Servers.TEST,
                                        exchange -> {
                                            if (!exchange.getQueryParameters().containsKey("n")) {
                                                JsonResponses.sendError(
                                                        exchange,
                                                        400,
                                                        JsonResponses.BAD_REQUEST,
                                                        "query parameter n is required");
                                                return;
                                            }
                                            Handlers.text(exchange, "ok");
                                        }),
                                Route.get(
                                        "/conflict",
                                        gate,
                                        Servers.TEST,
                                        exchange -> {
                                            exchange.setStatusCode(409);
                                            exchange.endExchange();
                                        }),
                                Route.get(
                                        "/fail",
                                        gate,
                                        Servers.TEST,
                                        exchange -> {
                                            throw new IllegalStateException(
                                                    "bug on the I/O thread");
                                        }),
                                Route.get(
                                        "/fail-on-worker",
                                        gate,
                                        Servers.TEST,
                                        Handlers.onWorker(
                                                exchange -> {
                                                    throw new IllegalStateException(
                                                            "bug on a worker thread");
                                                }))));
    }

    @AfterEach
    void detachLog() {
        errorLog.detachAppender(logged);
    }

    @Test
    void unknownPathIs404Json() throws Exception {
        HttpResponse<String> response = send("GET", "/nowhere");
        assertEquals(404, response.statusCode());
        assertJson(response);
        JsonNode error = json.readTree(response.body()).get("error");
        assertEquals("not_found", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("/nowhere"), error.toString());
    }

    @Test
    void knownPathWithWrongMethodIs405WithAllow() throws Exception {
        HttpResponse<String> builtIn = send("POST", "/health/live");
        assertEquals(405, builtIn.statusCode());
        assertEquals("GET", builtIn.headers().firstValue("Allow").orElseThrow());
        assertEquals("method_not_allowed", code(builtIn));

        HttpResponse<String> items = send("DELETE", "/items/7");
        assertEquals(405, items.statusCode());
        assertEquals("GET, PUT", items.headers().firstValue("Allow").orElseThrow());
        assertJson(items);
    }

    @Test
    void pathTemplatesRouteByMethodAndPreferTheExactPath() throws Exception {
        assertEquals("42", send("GET", "/items/42").body());
        assertEquals("put", send("PUT", "/items/42").body());
        assertEquals("special", send("GET", "/items/special").body());
    }

    @Test
    void handlerErrorHelperSends400Json() throws Exception {
        HttpResponse<String> response = send("GET", "/validate");
        assertEquals(400, response.statusCode());
        assertJson(response);
        JsonNode error = json.readTree(response.body()).get("error");
        assertEquals("bad_request", error.get("code").asText());
        assertEquals("query parameter n is required", error.get("message").asText());
        assertEquals("ok", send("GET", "/validate?n=1").body());
    }

    @Test
    void errorStatusWithoutBodyGetsJsonBody() throws Exception {
        HttpResponse<String> response = send("GET", "/conflict");
        assertEquals(409, response.statusCode());
        assertEquals("conflict", code(response));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/fail", "/fail-on-worker"})
    void failingHandlerIs500JsonLoggedWithRequestId(String path) throws Exception {
        HttpResponse<String> response = send("GET", path);
        assertEquals(500, response.statusCode());
        assertJson(response);
        assertEquals("internal", code(response));
        String requestId = response.headers().firstValue(RequestContext.HEADER).orElseThrow();
        ILoggingEvent event =
                logged.list.stream()
                        .filter(
                                e ->
                                        requestId.equals(
                                                e.getMDCPropertyMap().get(RequestContext.MDC_KEY)))
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new AssertionError(
                                                "no log line with request id " + requestId));
        assertEquals("ERROR", event.getLevel().toString());
        assertNotNull(event.getThrowableProxy());
        assertEquals(
                IllegalStateException.class.getName(), event.getThrowableProxy().getClassName());
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(Servers.uri(server, path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                BodyHandlers.ofString());
    }

    private String code(HttpResponse<String> response) throws Exception {
        return json.readTree(response.body()).at("/error/code").asText();
    }

    private static void assertJson(HttpResponse<String> response) {
        assertEquals(
                "application/json", response.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(response.body().startsWith("{\"error\":{"), response.body());
        assertTrue(response.headers().firstValue(RequestContext.HEADER).isPresent());
    }
}
