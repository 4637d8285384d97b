package io.capstan.web;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Starts web servers on ephemeral loopback ports and stops every one of them after each test. */
final class Servers implements AfterEachCallback {

    /** The admission budget test routes use; {@link Settings} configures it. */
    static final Admission TEST = Admission.budget("test");

    private final List<WebServer> started = new ArrayList<>();

    /** Settings for tests: loopback, ephemeral port, small pools, short drain. */
    static Settings settings() {
        return new Settings();
    }

    WebServer start(WebSettings settings, List<Route> routes) throws Exception {
        return start(settings, routes, () -> new Readiness(true, Map.of()));
    }

    WebServer start(WebSettings settings, List<Route> routes, Supplier<Readiness> readiness)
            throws Exception {
        return start(new WebServer(settings, routes, readiness));
    }

    WebServer start(WebSettings settings, List<Route> routes, RequestObserver observer)
            throws Exception {
        return start(
                new WebServer(settings, routes, () -> new Readiness(true, Map.of()), observer));
    }

    private WebServer start(WebServer server) throws Exception {
        started.add(server);
        server.start().get(10, TimeUnit.SECONDS);
        return server;
    }

    static URI uri(WebServer server, String path) {
        InetSocketAddress a = server.address();
        return URI.create("http://" + a.getHostString() + ":" + a.getPort() + path);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        started.forEach(WebServer::stop);
        started.clear();
    }

    /** A mutable recipe for {@link WebSettings}, so each test states only what it changes. */
    static final class Settings {
        int ioThreads = 2;
        int workerThreads = 8;
        long maxBodyBytes = 1024 * 1024;
        int maxHeaderBytes = 16 * 1024;
        Duration requestParseTimeout = Duration.ofSeconds(10);
        Duration idleTimeout = Duration.ofMinutes(1);
        AdmissionSettings test = new AdmissionSettings(256, 1024, Duration.ofSeconds(5));
        Duration drainTimeout = Duration.ofSeconds(5);

        WebSettings build() {
            return new WebSettings(
                    "127.0.0.1",
                    0,
                    ioThreads,
                    workerThreads,
                    maxBodyBytes,
                    maxHeaderBytes,
                    requestParseTimeout,
                    idleTimeout,
                    drainTimeout,
                    Map.of(TEST.budgetName().orElseThrow(), test));
        }
    }
}
