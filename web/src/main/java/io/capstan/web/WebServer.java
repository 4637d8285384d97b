package io.capstan.web;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.Options;
import org.xnio.SslClientAuthMode;

/**
 * The Undertow web layer: admin HTTP, health, and whatever routes other modules declare (Raft peer
 * endpoints, etcd's JSON gateway), on one listener that speaks HTTP/1.1 and HTTP/2: cleartext (h2c
 * by upgrade or prior knowledge), or with {@link TlsSettings} HTTPS (h2 chosen by ALPN), where
 * client certificates, when required, are checked in the TLS handshake: a client without one that
 * chains to a client CA never reaches a handler, health probes included.
 *
 * <p>Routes are fixed at construction, with the built-in {@code GET /health/live} and {@code GET
 * /health/ready}; nothing changes the router afterwards. Every request passes, in order: request
 * context (id, MDC, JSON error bodies), the drain gate, the router (404/405), the route's gate
 * (503), the body limit (413), the route's admission budget (a permit, or a place in its queue; 429
 * when neither comes: see {@link AdmissionBudget}; health routes are exempt so that probes answer
 * under load, and so are routes that declare {@link Admission#EXEMPT}), and the route's handler.
 * Each budget of the settings is one {@link AdmissionBudget} of this server, shared by the routes
 * that name it and by nothing else. Once a response is complete, whoever answered it, the request
 * gets one line on a {@code capstan.access.<owner>} logger and is reported to the {@link
 * RequestObserver}.
 *
 * <p>Threads of its own: Undertow's I/O and worker threads, and one admission timer ({@code
 * capstan-web-admission}) that refuses queued requests at their deadlines and looks for clients
 * that left every {@value #LIVENESS_CHECK_MILLIS} ms.
 *
 * <p>Lifecycle: {@code NEW → STARTING → RUNNING → STOPPING → STOPPED}, or {@code STARTING → FAILED}
 * when the listener cannot bind; {@code stop()} before {@code start()} goes straight to {@code
 * STOPPED}. Transitions happen under one lock, so {@link #start()} and {@link #stop()} may be
 * called from any threads; the current state is readable without it.
 */
public final class WebServer {

    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);

    /** How long the worker pool may take to exit once draining is over. */
    private static final Duration WORKER_EXIT_GRACE = Duration.ofSeconds(1);

    /**
     * How often admitted and queued requests are checked for a client that left; an HTTP/1.1
     * connection is read only for a request at least this old.
     */
    static final long LIVENESS_CHECK_MILLIS = 500;

    enum State {
        NEW,
        STARTING,
        RUNNING,
        STOPPING,
        STOPPED,
        FAILED
    }

    private final WebSettings settings;
    private final Optional<TlsSettings> tls;
    private final Undertow undertow;
    private final GracefulShutdownHandler drain;
    private final Map<String, ExchangeAdmission> admission;
    private final ScheduledThreadPoolExecutor admissionTimer;
    private final Object lock = new Object();

    // Written only under lock; volatile so that request threads and address() read them without it.
    private volatile State state = State.NEW;
    private volatile InetSocketAddress address;

    /**
     * Builds the server and installs every route; nothing is bound until {@link #start()}.
     *
     * @param readiness asked on an I/O thread for each {@code /health/ready} probe: cheap,
     *     non-blocking
     * @throws IllegalArgumentException if two routes share a method and path template (the built-in
     *     health routes included), or a route names an admission budget the settings do not
     *     configure
     */
    public WebServer(WebSettings settings, List<Route> routes, Supplier<Readiness> readiness) {
        this(settings, routes, readiness, RequestObserver.NONE);
    }

    /**
     * As {@link #WebServer(WebSettings, List, Supplier)}, telling {@code observer} of every request
     * once its response is complete (see {@link RequestObserver}).
     */
    public WebServer(
            WebSettings settings,
            List<Route> routes,
            Supplier<Readiness> readiness,
            RequestObserver observer) {
        this(settings, routes, readiness, observer, Optional.empty());
    }

    /**
     * As {@link #WebServer(WebSettings, List, Supplier, RequestObserver)}, serving HTTPS with
     * {@code tls} when present instead of cleartext.
     */
    public WebServer(
            WebSettings settings,
            List<Route> routes,
            Supplier<Readiness> readiness,
            RequestObserver observer,
            Optional<TlsSettings> tls) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.tls = Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(observer, "observer");
        Gate web = Gate.open("web");
        List<Route> builtIn =
                List.of(
                        Route.get(
                                LivenessHandler.PATH, web, Admission.EXEMPT, new LivenessHandler()),
                        Route.get(
                                ReadinessHandler.PATH,
                                web,
                                Admission.EXEMPT,
                                new ReadinessHandler(readiness)));
        this.admissionTimer =
                new ScheduledThreadPoolExecutor(
                        1,
                        task -> {
                            Thread thread = new Thread(task, "capstan-web-admission");
                            thread.setDaemon(true);
                            return thread;
                        });
        Map<String, ExchangeAdmission> budgets = new LinkedHashMap<>();
        settings.admission()
                .forEach(
                        (name, limits) ->
                                budgets.put(
                                        name,
                                        new ExchangeAdmission(
                                                new AdmissionBudget(
                                                        name,
                                                        limits,
                                                        (delay, task) ->
                                                                admissionTimer.schedule(
                                                                        task,
                                                                        delay,
                                                                        TimeUnit.NANOSECONDS),
                                                        System::nanoTime))));
        this.admission = Map.copyOf(budgets);
        Router router =
                new Router(
                        Stream.concat(builtIn.stream(), routes.stream())
                                .map(route -> admitting(route, settings, admission))
                                .toList());
        this.drain = new GracefulShutdownHandler(router);
        HttpHandler root =
                new RequestEntry(
                        drain, new JsonErrorPages(() -> state == State.STOPPING), observer);

        int idleMillis = WebSettings.millis("idle-timeout", settings.idleTimeout(), false);
        Undertow.Builder builder = Undertow.builder();
        if (tls.isPresent()) {
            builder.addHttpsListener(settings.port(), settings.host(), tls.get().serverContext());
            if (tls.get().requiresClientCertificates()) {
                builder.setSocketOption(Options.SSL_CLIENT_AUTH_MODE, SslClientAuthMode.REQUIRED);
            }
        } else {
            builder.addHttpListener(settings.port(), settings.host());
        }
        this.undertow =
                builder.setIoThreads(settings.ioThreads())
                        .setWorkerThreads(settings.workerThreads())
                        .setServerOption(UndertowOptions.ENABLE_HTTP2, true)
                        .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, settings.maxBodyBytes())
                        .setServerOption(UndertowOptions.MAX_HEADER_SIZE, settings.maxHeaderBytes())
                        .setServerOption(
                                UndertowOptions.REQUEST_PARSE_TIMEOUT,
                                WebSettings.millis(
                                        "request-parse-timeout",
                                        settings.requestParseTimeout(),
                                        false))
                        .setServerOption(UndertowOptions.IDLE_TIMEOUT, idleMillis)
                        .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis)
                        .setServerOption(
                                UndertowOptions.SHUTDOWN_TIMEOUT,
                                (int) WORKER_EXIT_GRACE.toMillis())
                        .setHandler(root)
                        .build();
    }

    /**
     * Binds the listener. Every route was installed by the constructor, so once the listener is
     * bound the server is fully ready: the returned future is already complete when this returns,
     * with the bound address, or failed with an {@link IllegalStateException} naming {@code
     * host:port} and the cause (e.g. the port is taken).
     *
     * @throws IllegalStateException if called more than once or after {@link #stop()}
     */
    public CompletableFuture<InetSocketAddress> start() {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("web server cannot start: it is " + state);
            }
            state = State.STARTING;
            String target = hostPort(settings.host(), settings.port());
            try {
                undertow.start();
            } catch (RuntimeException e) {
                state = State.FAILED;
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                LOG.error("web layer cannot listen on {}: {}", target, cause.toString());
                return CompletableFuture.failedFuture(
                        new IllegalStateException(
                                "web layer cannot listen on " + target + ": " + cause.getMessage(),
                                cause));
            }
            InetSocketAddress bound =
                    (InetSocketAddress) undertow.getListenerInfo().get(0).getAddress();
            address = bound;
            admissionTimer.scheduleWithFixedDelay(
                    this::checkLiveness,
                    LIVENESS_CHECK_MILLIS,
                    LIVENESS_CHECK_MILLIS,
                    TimeUnit.MILLISECONDS);
            state = State.RUNNING;
            LOG.info(
                    "web layer listening on {} ({})",
                    hostPort(bound.getHostString(), bound.getPort()),
                    protocols());
            return CompletableFuture.completedFuture(bound);
        }
    }

    /**
     * Stops the server: from now on new requests, and those waiting in an admission queue, get 503
     * {@code shutting_down}; requests in flight may finish for up to the drain timeout; then the
     * listener and every connection close, after which connections are refused, and every admission
     * permit still held comes back. Returns when all of that is done. Idempotent; concurrent
     * callers all return once the server has stopped.
     */
    public void stop() {
        synchronized (lock) {
            switch (state) {
                case NEW -> {
                    state = State.STOPPED;
                    admissionTimer.shutdownNow();
                    return;
                }
                case STOPPED, FAILED -> {
                    // A failed start never served a request; its timer has nothing to run.
                    admissionTimer.shutdownNow();
                    return;
                }
                default -> state = State.STOPPING;
            }
            LOG.info("web layer draining for up to {}", settings.drainTimeout());
            drain.shutdown();
            admission.values().forEach(ExchangeAdmission::close);
            try {
                if (!drain.awaitShutdown(settings.drainTimeout().toMillis())) {
                    LOG.warn(
                            "requests still in flight after the drain timeout of {}; closing their connections",
                            settings.drainTimeout());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.warn("interrupted while draining; closing now");
            }
            try {
                undertow.stop();
            } catch (RuntimeException e) {
                LOG.warn("web layer did not stop cleanly", e);
            } finally {
                admission.values().forEach(ExchangeAdmission::releaseAll);
                admissionTimer.shutdownNow();
                state = State.STOPPED;
            }
            LOG.info("web layer stopped");
        }
    }

    /**
     * The bound address (with the actual port when the settings asked for port 0).
     *
     * @throws IllegalStateException before {@link #start()} bound the listener
     */
    public InetSocketAddress address() {
        InetSocketAddress bound = address;
        if (bound == null) {
            throw new IllegalStateException("web server has no address: it is " + state);
        }
        return bound;
    }

    /**
     * This server's admission budgets, one per budget of its settings, for metrics: each one's
     * permits in use, queued requests and refusals.
     */
    public List<AdmissionBudget> admissionBudgets() {
        return settings.admission().keySet().stream()
                .map(name -> admission.get(name).budget())
                .toList();
    }

    /** {@code route} with its handler behind the route's admission checks. */
    private static Route admitting(
            Route route, WebSettings settings, Map<String, ExchangeAdmission> budgets) {
        ExchangeAdmission admission =
                route.admission()
                        .budgetName()
                        .map(
                                name -> {
                                    ExchangeAdmission budget = budgets.get(name);
                                    if (budget == null) {
                                        throw new IllegalArgumentException(
                                                "route "
                                                        + route.method()
                                                        + " "
                                                        + route.path()
                                                        + " names the admission budget '"
                                                        + name
                                                        + "', which capstan.web.admission does not"
                                                        + " configure (configured: "
                                                        + String.join(
                                                                ", ", settings.admission().keySet())
                                                        + ")");
                                    }
                                    return budget;
                                })
                        .orElse(null);
        return route.withHandler(new RouteHandler(route, settings.maxBodyBytes(), admission));
    }

    /** Runs on the admission timer. */
    private void checkLiveness() {
        try {
            Duration interval = Duration.ofMillis(LIVENESS_CHECK_MILLIS);
            admission.values().forEach(budget -> budget.checkLiveness(interval));
        } catch (RuntimeException e) {
            // A failure here must not cancel the periodic check.
            LOG.error("checking admitted requests for clients that left failed", e);
        }
    }

    State state() {
        return state;
    }

    /** The listener's protocols, for the log. */
    private String protocols() {
        return tls.map(
                        t ->
                                "HTTPS: HTTP/1.1, h2"
                                        + (t.requiresClientCertificates()
                                                ? "; client certificates required"
                                                : ""))
                .orElse("HTTP/1.1, h2c");
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
