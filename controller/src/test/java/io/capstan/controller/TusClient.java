package io.capstan.controller;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;

/** A small tus 1.0.0 client for tests: creation, then PATCHes of a chunk each. */
final class TusClient {
    static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();

    private TusClient() {}

    static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static HttpResponse<String> create(Daemon member, long length, String metadata)
            throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(AdminHttp.url(member, "/v1/uploads"))
                        .timeout(Duration.ofSeconds(60))
                        .header("Tus-Resumable", "1.0.0")
                        .header("Upload-Length", Long.toString(length))
                        .POST(HttpRequest.BodyPublishers.noBody());
        if (!metadata.isEmpty()) {
            request.header("Upload-Metadata", metadata);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> patch(
            Daemon member, String location, long offset, byte[] chunk, String... headers)
            throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(AdminHttp.url(member, location))
                        .timeout(Duration.ofSeconds(60))
                        .header("Tus-Resumable", "1.0.0")
                        .header("Upload-Offset", Long.toString(offset))
                        .header("Content-Type", "application/offset+octet-stream")
                        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(chunk));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> head(Daemon member, String location) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(AdminHttp.url(member, location))
                        .timeout(Duration.ofSeconds(60))
                        .header("Tus-Resumable", "1.0.0")
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Uploads {@code data} in chunks; returns the upload's location once the last PATCH was
     * answered 204.
     */
    static String upload(Daemon member, byte[] data, int chunk, String metadata) throws Exception {
        HttpResponse<String> created = create(member, data.length, metadata);
        if (created.statusCode() != 201) {
            throw new AssertionError(
                    "creation answered " + created.statusCode() + ": " + created.body());
        }
        String location = created.headers().firstValue("Location").orElseThrow();
        for (int offset = 0; offset < data.length; offset += chunk) {
            byte[] part = Arrays.copyOfRange(data, offset, Math.min(data.length, offset + chunk));
            HttpResponse<String> patched = patch(member, location, offset, part);
            if (patched.statusCode() != 204) {
                throw new AssertionError(
                        "PATCH at "
                                + offset
                                + " answered "
                                + patched.statusCode()
                                + ": "
                                + patched.body());
            }
        }
        return location;
    }
}
