package io.capstan.controller.systemd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The daemon's watchdog health: every lifecycle component is RUNNING <em>and</em> the web layer
 * answers {@code GET /health/live} with 200 within the timeout. The request goes through the real
 * listener, I/O thread and router, so a wedged or dead web layer stops the pings and systemd
 * restarts the process. Over TLS the probe presents the member's own certificate (client
 * certificates may be required) and trusts exactly that certificate, at whatever address the
 * listener is reached.
 *
 * <p>Deliberately not {@code /health/ready}: that also needs a Raft leader, and a member that has
 * lost its quorum is healthy and must keep running (restarting it would not bring the quorum back
 * and would lose its place in the cluster); nor on a cold start does a member wait for its peers.
 *
 * <p>Threading: {@link #probe} is called from one thread at a time (the notifier's), which owns the
 * HTTP client, created at the first probe so a daemon outside systemd never makes one.
 */
public final class WebHealthProbe implements HealthProbe {
    private static final String LIVE_PATH = "/health/live";

    private final BooleanSupplier running;
    private final Supplier<InetSocketAddress> webAddress;
    private final Optional<SSLContext> tls;
    private HttpClient client;

    /**
     * @param running whether every lifecycle component is RUNNING
     * @param webAddress the web layer's bound address; asked for only while {@code running}
     */
    public WebHealthProbe(BooleanSupplier running, Supplier<InetSocketAddress> webAddress) {
        this(running, webAddress, Optional.empty());
    }

    /**
     * As {@link #WebHealthProbe(BooleanSupplier, Supplier)}, over HTTPS with {@code tls} when
     * present (the web layer's {@code TlsSettings.selfContext()}).
     */
    public WebHealthProbe(
            BooleanSupplier running,
            Supplier<InetSocketAddress> webAddress,
            Optional<SSLContext> tls) {
        this.running = Objects.requireNonNull(running, "running");
        this.webAddress = Objects.requireNonNull(webAddress, "webAddress");
        this.tls = Objects.requireNonNull(tls, "tls");
    }

    @Override
    public CompletionStage<Optional<String>> probe(Duration timeout) {
        if (!running.getAsBoolean()) {
            return CompletableFuture.completedFuture(Optional.of("not every component is running"));
        }
        URI uri = liveUri(tls.isPresent() ? "https" : "http", webAddress.get());
        if (client == null) {
            HttpClient.Builder builder =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
            tls.ifPresent(builder::sslContext);
            client = builder.build();
        }
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                .handle(
                        (response, error) -> {
                            if (error != null) {
                                return Optional.of("GET " + uri + " failed: " + error);
                            }
                            return response.statusCode() == 200
                                    ? Optional.<String>empty()
                                    : Optional.of(
                                            "GET " + uri + " answered " + response.statusCode());
                        });
    }

    /** The liveness URL at {@code address}; a wildcard bind is reached over loopback. */
    static URI liveUri(String scheme, InetSocketAddress address) {
        InetAddress host = address.getAddress();
        if (host == null || host.isAnyLocalAddress()) {
            host = InetAddress.getLoopbackAddress();
        }
        String literal = host.getHostAddress();
        if (literal.contains(":")) {
            int zone = literal.indexOf('%');
            literal = "[" + (zone >= 0 ? literal.substring(0, zone) : literal) + "]";
        }
        return URI.create(scheme + "://" + literal + ":" + address.getPort() + LIVE_PATH);
    }
}
