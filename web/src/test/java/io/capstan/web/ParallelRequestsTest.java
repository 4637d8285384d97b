package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.MDC;

@Timeout(120)
class ParallelRequestsTest {

    private static final int REQUESTS = 200;

    @RegisterExtension final Servers servers = new Servers();

    @Test
    void twoHundredParallelRequestsAreAllAnswered() throws Exception {
        WebServer server =
                servers.start(
                        Servers.settings().build(),
                        List.of(
                                Route.get(
                                        "/id",
                                        Gate.open("test"),
                                        Servers.TEST,
                                        Handlers.onWorker(
                                                exchange ->
                                                        Handlers.text(
                                                                exchange,
                                                                MDC.get(
                                                                        RequestContext
                                                                                .MDC_KEY))))));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            String path = i % 2 == 0 ? "/id" : "/health/live";
            responses.add(
                    client.sendAsync(
                            HttpRequest.newBuilder(Servers.uri(server, path)).build(),
                            BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(responses.toArray(CompletableFuture[]::new))
                .get(60, TimeUnit.SECONDS);

        Set<String> ids = new HashSet<>();
        for (int i = 0; i < REQUESTS; i++) {
            HttpResponse<String> response = responses.get(i).join();
            assertEquals(200, response.statusCode(), response.body());
            String id = response.headers().firstValue(RequestContext.HEADER).orElseThrow();
            ids.add(id);
            if (i % 2 == 0) {
                // Each handler saw its own request's id, never a neighbour's.
                assertEquals(id, response.body());
            }
        }
        assertEquals(REQUESTS, ids.size());
    }
}
