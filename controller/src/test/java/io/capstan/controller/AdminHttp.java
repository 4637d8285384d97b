package io.capstan.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** A test's HTTP client of the admin API on one daemon's web port, optionally with a token. */
final class AdminHttp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();

    private AdminHttp() {}

    /** One answer, whole. */
    record Reply(int status, HttpHeaders headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + text(), e);
            }
        }

        /** The error's code; fails the test when the body is not the error shape. */
        String errorCode() {
            JsonNode code = json().path("error").path("code");
            if (!code.isTextual()) {
                throw new AssertionError("not an error: HTTP " + status + " " + text());
            }
            return code.asText();
        }
    }

    static URI url(Daemon daemon, String path) {
        return URI.create("http://127.0.0.1:" + daemon.webAddress().getPort() + path);
    }

    static Reply get(Daemon daemon, String path) throws Exception {
        return send(daemon, "GET", path, Optional.empty(), Optional.empty());
    }

    static Reply post(Daemon daemon, String path, String json) throws Exception {
        return send(daemon, "POST", path, Optional.of(json), Optional.empty());
    }

    static Reply delete(Daemon daemon, String path) throws Exception {
        return send(daemon, "DELETE", path, Optional.empty(), Optional.empty());
    }

    /** Any request; {@code authorization} is the whole header value. */
    static Reply send(
            Daemon daemon,
            String method,
            String path,
            Optional<String> json,
            Optional<String> authorization)
            throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(url(daemon, path))
                        .timeout(Duration.ofSeconds(60))
                        .method(
                                method,
                                json.map(HttpRequest.BodyPublishers::ofString)
                                        .orElse(HttpRequest.BodyPublishers.noBody()));
        authorization.ifPresent(value -> request.header("Authorization", value));
        HttpResponse<byte[]> response =
                CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(response.statusCode(), response.headers(), response.body());
    }
}
