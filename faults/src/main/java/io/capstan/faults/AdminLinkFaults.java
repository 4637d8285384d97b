package io.capstan.faults;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collection;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * {@link LinkFaults} through each Capstan member's admin route {@code /v1/faults/peers} on its web
 * port (no token: the members' web layers listen on loopback only).
 *
 * <p>Threads: the control thread only; the HTTP client is thread-safe.
 */
final class AdminLinkFaults implements LinkFaults {
    private static final String PATH = "/v1/faults/peers";
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    /**
     * A member restarted a moment ago may take this long to listen (its JVM starting on a busy
     * machine).
     */
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private static final Duration PAUSE = Duration.ofMillis(250);

    private final HttpClient http =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(TIMEOUT)
                    .build();
    private final ToIntFunction<MemberSlot> webPort;

    AdminLinkFaults(ToIntFunction<MemberSlot> webPort) {
        this.webPort = webPort;
    }

    @Override
    public void drop(MemberSlot from, Collection<MemberSlot> to) throws IOException {
        String names =
                to.stream().map(m -> "\"" + m.name() + "\"").collect(Collectors.joining(","));
        send(from, "PUT", HttpRequest.BodyPublishers.ofString("{\"drop\":[" + names + "]}"));
    }

    @Override
    public void heal(MemberSlot member) throws IOException {
        send(member, "DELETE", HttpRequest.BodyPublishers.noBody());
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(
                    "interrupted while sending " + request.method() + " " + request.uri(), e);
        }
    }

    /**
     * Sends one request, again after a failure for up to {@link #PATIENCE}; both requests are
     * idempotent.
     */
    private void send(MemberSlot member, String method, HttpRequest.BodyPublisher body)
            throws IOException {
        HttpRequest request =
                HttpRequest.newBuilder(
                                URI.create(
                                        "http://"
                                                + MemberSlot.HOST
                                                + ":"
                                                + webPort.applyAsInt(member)
                                                + PATH))
                        .timeout(TIMEOUT)
                        .header("Content-Type", "application/json")
                        .method(method, body)
                        .build();
        IOException last = null;
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = send(request);
                if (response.statusCode() == 200) {
                    return;
                }
                last =
                        new IOException(
                                method
                                        + " "
                                        + PATH
                                        + " on "
                                        + member
                                        + ": HTTP "
                                        + response.statusCode()
                                        + " "
                                        + response.body());
            } catch (IOException e) {
                last = new IOException(method + " " + PATH + " on " + member + ": " + e, e);
            }
            try {
                Thread.sleep(PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(
                        "interrupted while " + method + " " + PATH + " on " + member, e);
            }
        }
        throw last != null
                ? last
                : new IOException(method + " " + PATH + " on " + member + ": no time left");
    }
}
