package io.capstan.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The CLI's client of the admin HTTP API: sends each request to the first endpoint that accepts a
 * connection (a refused or timed-out connect moves on to the next; any later failure does not, as
 * the request may have been acted on), with the admin token when one was given, and HTTPS trusting
 * the given CA certificates. Used by one command on one thread.
 */
final class AdminClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /** Longer than anything a member does for one admin request (a leader transfer, a snapshot). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private static final ObjectReader READER = new ObjectMapper().reader();

    private final List<URI> endpoints;
    private final Optional<String> token;
    private final HttpClient http;

    /**
     * @param tls trusts the CA certificates {@code --cacert} named, for https endpoints
     */
    AdminClient(List<URI> endpoints, Optional<String> token, Optional<SSLContext> tls) {
        this.endpoints = List.copyOf(endpoints);
        this.token = token;
        HttpClient.Builder builder =
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(CONNECT_TIMEOUT);
        tls.ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    List<URI> endpoints() {
        return endpoints;
    }

    /** A JSON request to the first endpoint that takes it; {@code json} is the body, if any. */
    Reply call(String method, String path, Optional<String> json)
            throws IOException, InterruptedException {
        HttpResponse<byte[]> response =
                send(method, path, json, HttpResponse.BodyHandlers.ofByteArray());
        return Reply.of(response);
    }

    /** As {@link #call} at {@code endpoint} only, e.g. the leader a member pointed at. */
    Reply callAt(URI endpoint, String method, String path, Optional<String> json)
            throws IOException, InterruptedException {
        return Reply.of(
                http.send(
                        request(endpoint, method, path, json),
                        HttpResponse.BodyHandlers.ofByteArray()));
    }

    /** A request whose body the caller reads as it arrives (a snapshot). */
    HttpResponse<InputStream> stream(String path) throws IOException, InterruptedException {
        return send("GET", path, Optional.empty(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /**
     * Any request with {@code headers} and {@code body}, at {@code endpoint} when given (a tus
     * upload lives on one member), else at the first endpoint that takes it.
     */
    Reply send(
            Optional<URI> endpoint,
            String method,
            String path,
            Map<String, String> headers,
            HttpRequest.BodyPublisher body)
            throws IOException, InterruptedException {
        if (endpoint.isPresent()) {
            return Reply.of(
                    http.send(
                            request(endpoint.get(), method, path, body, headers),
                            HttpResponse.BodyHandlers.ofByteArray()));
        }
        return Reply.of(
                send(
                        e -> request(e, method, path, body, headers),
                        HttpResponse.BodyHandlers.ofByteArray()));
    }

    private <T> HttpResponse<T> send(
            String method, String path, Optional<String> json, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        return send(endpoint -> request(endpoint, method, path, json), handler);
    }

    private <T> HttpResponse<T> send(
            Function<URI, HttpRequest> request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        List<String> refused = new ArrayList<>();
        for (URI endpoint : endpoints) {
            try {
                return http.send(request.apply(endpoint), handler);
            } catch (ConnectException | HttpConnectTimeoutException e) {
                refused.add(endpoint + ": " + describe(e));
            }
        }
        throw new Unreachable("no endpoint took the request: " + String.join("; ", refused));
    }

    private HttpRequest request(URI endpoint, String method, String path, Optional<String> json) {
        return request(
                endpoint,
                method,
                path,
                json.map(body -> HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                        .orElse(HttpRequest.BodyPublishers.noBody()),
                json.isPresent() ? Map.of("Content-Type", "application/json") : Map.of());
    }

    private HttpRequest request(
            URI endpoint,
            String method,
            String path,
            HttpRequest.BodyPublisher body,
            Map<String, String> headers) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(endpoint.resolve(path))
                        .timeout(REQUEST_TIMEOUT)
                        .method(method, body);
        headers.forEach(request::header);
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return request.build();
    }

    static String describe(IOException e) {
        if (e instanceof HttpConnectTimeoutException) {
            return "connect timed out after " + CONNECT_TIMEOUT.toSeconds() + "s";
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /**
     * An SSL context that trusts the certificates in the PEM file {@code caFile}.
     *
     * @throws IOException when it cannot be read
     * @throws GeneralSecurityException when it holds no certificate or a malformed one
     */
    static SSLContext trusting(Path caFile) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(caFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("it holds no certificate");
        }
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        int n = 0;
        for (Certificate certificate : certificates) {
            trusted.setCertificateEntry("ca-" + n++, certificate);
        }
        TrustManagerFactory trust =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /** Every endpoint refused the connection. */
    static final class Unreachable extends IOException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    /**
     * A whole answer: who gave it, its status, its headers (lower-case names, first values) and its
     * body.
     */
    record Reply(URI endpoint, int status, Map<String, String> headers, byte[] body) {

        static Reply of(HttpResponse<byte[]> response) {
            Map<String, String> headers = new java.util.HashMap<>();
            response.headers()
                    .map()
                    .forEach(
                            (name, values) -> {
                                if (!values.isEmpty()) {
                                    headers.put(
                                            name.toLowerCase(java.util.Locale.ROOT), values.get(0));
                                }
                            });
            return new Reply(
                    endpointOf(response.uri()),
                    response.statusCode(),
                    Map.copyOf(headers),
                    response.body());
        }

        /** The answer to a request for {@code uri}, credited to its endpoint. */
        static Reply of(URI uri, int status, byte[] body) {
            return new Reply(endpointOf(uri), status, Map.of(), body);
        }

        private static URI endpointOf(URI uri) {
            return URI.create(uri.getScheme() + "://" + uri.getRawAuthority());
        }

        boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The body as JSON; a missing node when it is not JSON. */
        JsonNode json() {
            try {
                JsonNode node = READER.readTree(body);
                return node == null ? MissingNode.getInstance() : node;
            } catch (IOException e) {
                return MissingNode.getInstance();
            }
        }

        /** The error's code, or empty when the body is not the admin API's error shape. */
        String errorCode() {
            return json().path("error").path("code").asText("");
        }

        /** A line for people: the error's message and code, the status and who answered. */
        String describeError() {
            JsonNode error = json().path("error");
            String message = error.path("message").asText("");
            if (message.isEmpty()) {
                message =
                        new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8)
                                .strip();
            }
            String code = error.path("code").asText("");
            return message
                    + " ("
                    + (code.isEmpty() ? "" : code + ", ")
                    + "HTTP "
                    + status
                    + " from "
                    + endpoint
                    + ")";
        }
    }
}
