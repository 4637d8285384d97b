package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web layer over TLS on a real port, with certificates from {@code scripts/make-test-certs.sh}:
 * HTTPS with HTTP/2 chosen by ALPN, no cleartext on the same port, and client certificates checked
 * in the handshake when client CAs are configured.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class HttpsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir static Path dir;

    private static TestPki pki;

    /** Another CA, whose certificates the server must refuse. */
    private static TestPki stranger;

    private WebServer server;

    @BeforeAll
    static void makePki() throws Exception {
        pki = TestPki.make(dir.resolve("pki"));
        stranger = TestPki.make(dir.resolve("stranger"));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private void start(List<X509Certificate> clientCas) throws Exception {
        start("127.0.0.1", clientCas);
    }

    private void start(String host, List<X509Certificate> clientCas) throws Exception {
        WebSettings settings =
                new WebSettings(
                        host,
                        0,
                        2,
                        8,
                        1 << 20,
                        16 << 10,
                        TIMEOUT,
                        Duration.ofMinutes(1),
                        Duration.ofSeconds(1),
                        Map.of("test", new AdmissionSettings(16, 16, Duration.ofSeconds(5))));
        server =
                new WebServer(
                        settings,
                        List.of(
                                Route.get(
                                        "/hello",
                                        Gate.open("test"),
                                        Servers.TEST,
                                        Handlers.fixed("hello"))),
                        () -> new Readiness(true, Map.of()),
                        RequestObserver.NONE,
                        Optional.of(new TlsSettings(pki.node(), clientCas)));
        server.start().get(10, TimeUnit.SECONDS);
    }

    private URI uri(String scheme, String path) {
        InetSocketAddress a = server.address();
        return URI.create(scheme + "://" + a.getHostString() + ":" + a.getPort() + path);
    }

    private static HttpResponse<String> get(SSLContext tls, URI uri) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(TIMEOUT).build();
        return client.send(
                HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(), BodyHandlers.ofString());
    }

    @Test
    void httpsAnswersOverHttp2WithTheCaTrusted() throws Exception {
        start(List.of());

        HttpResponse<String> live =
                get(SslContexts.create(null, pki.ca()), uri("https", "/health/live"));
        assertEquals(200, live.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, live.version());
        assertEquals("{\"status\":\"live\"}", live.body());
        assertEquals(
                "hello", get(SslContexts.create(null, pki.ca()), uri("https", "/hello")).body());
    }

    @Test
    void cleartextToTheTlsPortFails() throws Exception {
        start(List.of());

        HttpClient plain =
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(TIMEOUT)
                        .build();
        assertThrows(
                IOException.class,
                () ->
                        plain.send(
                                HttpRequest.newBuilder(uri("http", "/health/live"))
                                        .timeout(TIMEOUT)
                                        .build(),
                                BodyHandlers.ofString()));
    }

    @Test
    void aServerCertificateFromAnotherCaIsNotTrusted() throws Exception {
        start(List.of());

        assertThrows(
                SSLHandshakeException.class,
                () -> get(SslContexts.create(null, stranger.ca()), uri("https", "/health/live")));
    }

    @Test
    void withClientCasAClientWithoutACertificateIsRefusedInTheHandshake() throws Exception {
        start(pki.ca());

        assertThrows(
                IOException.class,
                () -> get(SslContexts.create(null, pki.ca()), uri("https", "/health/live")));
    }

    @Test
    void withClientCasACertificateFromAnotherCaIsRefused() throws Exception {
        start(pki.ca());

        assertThrows(
                IOException.class,
                () -> get(stranger.client().clientContext(pki.ca()), uri("https", "/health/live")));
    }

    @Test
    void withClientCasAGoodClientCertificateIsServed() throws Exception {
        start(pki.ca());

        HttpResponse<String> client =
                get(pki.client().clientContext(pki.ca()), uri("https", "/hello"));
        assertEquals(200, client.statusCode());
        assertEquals("hello", client.body());
        // Members present their own certificate to each other.
        TlsSettings member = new TlsSettings(pki.node(), pki.ca());
        assertEquals(200, get(member.peerContext(), uri("https", "/health/live")).statusCode());
    }

    @Test
    void theSelfContextReachesTheListenerByAnAddressItsCertificateDoesNotName() throws Exception {
        // Linux routes all of 127.0.0.0/8 to loopback.
        start("127.0.0.2", pki.ca());
        TlsSettings member = new TlsSettings(pki.node(), pki.ca());
        URI unnamed = uri("https", "/health/live");

        // 127.0.0.2 is not among the certificate's names: a CA-trusting client refuses it...
        assertThrows(SSLHandshakeException.class, () -> get(member.peerContext(), unnamed));
        // ...the self context trusts exactly the member's own certificate.
        assertEquals(200, get(member.selfContext(), unnamed).statusCode());
    }
}
