package io.capstan.etcd;

import io.capstan.web.TlsSettings;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd v3 gRPC listener: serves the given services on {@code host:port} over grpc-netty-shaded
 * (whose Netty never meets any other on the classpath), cleartext HTTP/2, or TLS with the member's
 * {@link TlsSettings}; when those require client certificates, a client without one that chains to
 * a client CA is refused in the handshake.
 *
 * <p>Limits: inbound messages up to {@link ApiLimits#maxRequestBytes} plus etcd's 512 KiB of
 * overhead (a request over the limit but under this gets etcd's "request is too large" from the
 * services). Client keep-alive pings are allowed every 5 s, with or without calls, as etcd allows
 * them, so etcd clients' pings are not answered with GOAWAY.
 *
 * <p>Threads: calls run on the injected executor (the services never block it for long: they hand
 * work to the Raft node and answer when it completes); Netty's event loops do the I/O.
 *
 * <p>Lifecycle: {@code NEW → RUNNING → STOPPED}, or {@code NEW → FAILED} when the listener cannot
 * bind. Transitions happen under one lock; {@link #start()} and {@link #stop()} may be called from
 * any thread.
 */
public final class ApiServer {

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    /** etcd's {@code --grpc-keepalive-min-time}. */
    private static final Duration MIN_CLIENT_PING_INTERVAL = Duration.ofSeconds(5);

    private enum State {
        NEW,
        RUNNING,
        STOPPED,
        FAILED
    }

    private final String host;
    private final int port;
    private final Duration stopTimeout;
    private final Runnable endStreams;
    private final String transport;
    private final Server server;
    private final Object lock = new Object();

    // Written only under lock; volatile so that address() reads them without it.
    private volatile State state = State.NEW;
    private volatile InetSocketAddress address;

    /**
     * Builds the server; nothing is bound until {@link #start()}.
     *
     * @param host address to bind
     * @param port port to bind; 0 picks an ephemeral port
     * @param limits bounds on inbound messages
     * @param services the gRPC services to serve (see {@link EtcdApi#services()})
     * @param endStreams run by {@link #stop()} once the listener takes no new call: ends the calls
     *     that never finish by themselves, as etcd clients expect of a stopping member ({@link
     *     EtcdApi#endStreams()})
     * @param executor runs every call; owned by the caller, who shuts it down after {@link #stop()}
     * @param stopTimeout how long {@link #stop()} lets calls in flight finish before cancelling
     *     them
     */
    public ApiServer(
            String host,
            int port,
            ApiLimits limits,
            List<BindableService> services,
            Runnable endStreams,
            Executor executor,
            Duration stopTimeout) {
        this(
                host,
                port,
                limits,
                services,
                endStreams,
                List.of(),
                Optional.empty(),
                executor,
                stopTimeout);
    }

    /**
     * As {@link #ApiServer(String, int, ApiLimits, List, Runnable, Executor, Duration)}, with every
     * service behind {@code interceptors} (request ids, metrics; the last one sees each call
     * first), over TLS when {@code tls} is present.
     */
    public ApiServer(
            String host,
            int port,
            ApiLimits limits,
            List<BindableService> services,
            Runnable endStreams,
            List<ServerInterceptor> interceptors,
            Optional<TlsSettings> tls,
            Executor executor,
            Duration stopTimeout) {
        this.host = Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        this.port = port;
        this.stopTimeout = Objects.requireNonNull(stopTimeout, "stopTimeout");
        if (stopTimeout.isNegative()) {
            throw new IllegalArgumentException(
                    "stopTimeout must not be negative, was " + stopTimeout);
        }
        this.endStreams = Objects.requireNonNull(endStreams, "endStreams");
        NettyServerBuilder builder =
                NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                        // A restarted member binds its port again while the last run's closed
                        // connections are still in TIME_WAIT; Netty's native transport does not
                        // allow that by default.
                        .withOption(ChannelOption.SO_REUSEADDR, true)
                        .executor(Objects.requireNonNull(executor, "executor"))
                        .maxInboundMessageSize(limits.maxInboundMessageBytes())
                        .permitKeepAliveTime(
                                MIN_CLIENT_PING_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
                        .permitKeepAliveWithoutCalls(true);
        tls.ifPresent(t -> builder.sslContext(sslContext(t)));
        this.transport =
                tls.map(
                                t ->
                                        t.requiresClientCertificates()
                                                ? "gRPC over TLS, client certificates required"
                                                : "gRPC over TLS")
                        .orElse("gRPC");
        services.forEach(
                service -> builder.addService(ServerInterceptors.intercept(service, interceptors)));
        this.server = builder.build();
    }

    /**
     * Binds the listener. The future is complete when this returns: with the bound address (the
     * actual port when 0 was asked for), or failed with an {@link IllegalStateException} naming
     * {@code host:port} and the cause.
     *
     * @throws IllegalStateException if called more than once
     */
    public CompletableFuture<InetSocketAddress> start() {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("etcd API server cannot start: it is " + state);
            }
            String target = hostPort(host, port);
            try {
                server.start();
            } catch (IOException | RuntimeException e) {
                state = State.FAILED;
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                LOG.error("etcd API cannot listen on {}: {}", target, cause.toString());
                return CompletableFuture.failedFuture(
                        new IllegalStateException(
                                "etcd API cannot listen on " + target + ": " + cause.getMessage(),
                                cause));
            }
            InetSocketAddress bound = (InetSocketAddress) server.getListenSockets().get(0);
            address = bound;
            state = State.RUNNING;
            LOG.info(
                    "etcd API listening on {} ({})",
                    hostPort(bound.getHostString(), bound.getPort()),
                    transport);
            return CompletableFuture.completedFuture(bound);
        }
    }

    /**
     * Stops taking calls (the listener closes; open connections get GOAWAY, so clients send new
     * calls elsewhere), then ends the streams with the stop's {@code endStreams} (etcd's {@code
     * server stopped}, UNAVAILABLE, which etcd clients answer by reconnecting and resuming, where a
     * cancellation would be final to them), lets the calls still in flight finish for up to the
     * stop timeout, then cancels the rest and waits up to the stop timeout again for the transport
     * to close. Returns when that is done. Idempotent; before {@link #start()} it only marks the
     * server stopped.
     */
    public void stop() {
        synchronized (lock) {
            State was = state;
            if (was == State.STOPPED || was == State.FAILED) {
                return;
            }
            state = State.STOPPED;
            if (was == State.NEW) {
                return;
            }
            server.shutdown();
            endStreams.run();
            try {
                if (!server.awaitTermination(stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn(
                            "etcd API calls still in flight after {}; cancelling them",
                            stopTimeout);
                    server.shutdownNow();
                    if (!server.awaitTermination(stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                        LOG.warn("etcd API transport did not close within {}", stopTimeout);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                server.shutdownNow();
                LOG.warn("interrupted while stopping the etcd API; calls cancelled");
            }
            LOG.info("etcd API stopped");
        }
    }

    /**
     * The bound address.
     *
     * @throws IllegalStateException before {@link #start()} bound the listener
     */
    public InetSocketAddress address() {
        InetSocketAddress bound = address;
        if (bound == null) {
            throw new IllegalStateException("etcd API server has no address: it is " + state);
        }
        return bound;
    }

    /** Netty's server context (ALPN for HTTP/2 included) with the member's key and client CAs. */
    private static SslContext sslContext(TlsSettings tls) {
        SslContextBuilder builder =
                SslContextBuilder.forServer(
                        tls.identity().key(),
                        tls.identity().chain().toArray(X509Certificate[]::new));
        if (tls.requiresClientCertificates()) {
            builder.trustManager(tls.clientCas().toArray(X509Certificate[]::new))
                    .clientAuth(ClientAuth.REQUIRE);
        }
        try {
            return GrpcSslContexts.configure(builder).build();
        } catch (SSLException e) {
            // The key and certificates were checked when the configuration was bound.
            throw new IllegalStateException(
                    "cannot set up TLS on the etcd API: " + e.getMessage(), e);
        }
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
