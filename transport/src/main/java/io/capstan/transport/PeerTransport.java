package io.capstan.transport;

import io.capstan.web.Admission;
import io.capstan.web.Gate;
import io.capstan.web.Route;
import io.capstan.web.TlsSettings;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis RPC carried over the web layer, for one member: the peer routes its web server mounts,
 * and the Ratis plug-in ({@link WebRpcType}) through which its Raft server and clients send.
 *
 * <p>Wiring, in the order the lifecycle runs it:
 * <ol>
 *   <li>{@link #create} before anything starts; it opens no connection and needs no web server;</li>
 *   <li>{@link #routes} into the web server's route list, behind the gate of the component that
 *       owns Raft (closed gate: 503);</li>
 *   <li>once the web server is ready, {@link #configure} on the Raft server's and clients'
 *       properties and parameters, then Ratis builds and starts the server. Until Ratis has
 *       started the server's RPC, the routes answer 503 and nothing is sent to a peer;</li>
 *   <li>{@link #close} after the Raft server and its clients are closed, before the web server
 *       stops.</li>
 * </ol>
 *
 * <p>Owned threads, all daemon and named {@code capstan-peer-*}: the inbound executor
 * ({@value #INBOUND_THREADS} threads, {@value #INBOUND_QUEUE} queued tasks, beyond that 503), on
 * which received requests are decoded and handed to Ratis; the HTTP client's executor
 * ({@value #HTTP_THREADS} threads), on which replies complete; one timer thread for deadlines,
 * fault delays and the ordered-request expiry. Everything else is immutable or owned by the
 * classes it names ({@link PeerFaults}, {@link InboundBinding}, {@link OrderedClientRequests}).
 */
public final class PeerTransport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerTransport.class);

    static final int INBOUND_THREADS = 8;
    static final int INBOUND_QUEUE = 1024;
    static final int HTTP_THREADS = 4;
    private static final Duration EXPIRY_INTERVAL = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final TransportLimits limits;
    private final Supplier<InetSocketAddress> advertisedAddress;
    private final PeerFaults faults = new PeerFaults();
    private final PeerAuthenticator authenticator;
    private final InboundBinding inbound = new InboundBinding();
    private final OrderedClientRequests ordered;
    private final ExecutorService inboundExecutor;
    private final ExecutorService httpExecutor;
    private final ScheduledExecutorService timer;
    private final PeerCarrier carrier;
    private final AtomicBoolean closed = new AtomicBoolean();

    PeerTransport(TransportSettings settings, Optional<TlsSettings> tls,
                  Supplier<InetSocketAddress> advertisedAddress, ExecutorService inboundExecutor,
                  ExecutorService httpExecutor, ScheduledExecutorService timer, LongSupplier nanoTime) {
        this.limits = TransportLimits.of(settings.maxMessageBytes());
        this.advertisedAddress = advertisedAddress;
        this.authenticator = new PeerAuthenticator(settings.secret());
        this.ordered = new OrderedClientRequests(settings.requestTimeout(), nanoTime);
        this.inboundExecutor = inboundExecutor;
        this.httpExecutor = httpExecutor;
        this.timer = timer;
        HttpClient.Builder http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpExecutor);
        tls.ifPresent(t -> http.sslContext(t.peerContext()));
        this.carrier = new PeerCarrier(http.build(), tls.isPresent() ? "https" : "http", authenticator, faults, timer,
                limits.peerBodyBytes());
        timer.scheduleWithFixedDelay(this::expireOrderedRequests, EXPIRY_INTERVAL.toMillis(),
                EXPIRY_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A transport with its own threads, over cleartext.
     *
     * @param advertisedAddress where this member's web layer can be reached; asked only once Ratis
     *                          runs, so it may read the web server's bound address
     */
    public static PeerTransport create(TransportSettings settings, Supplier<InetSocketAddress> advertisedAddress) {
        return create(settings, Optional.empty(), advertisedAddress);
    }

    /**
     * A transport with its own threads; with {@code tls}, over HTTPS to peers whose web layers serve
     * those settings: this member presents its certificate as a client certificate and trusts
     * peers' certificates as {@link TlsSettings#peerContext()} says (each must name the host of
     * the peer's address).
     */
    public static PeerTransport create(TransportSettings settings, Optional<TlsSettings> tls,
                                       Supplier<InetSocketAddress> advertisedAddress) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(advertisedAddress, "advertisedAddress");
        ThreadPoolExecutor inbound = new ThreadPoolExecutor(INBOUND_THREADS, INBOUND_THREADS, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(INBOUND_QUEUE), daemonThreads("capstan-peer-inbound-"));
        ExecutorService http = Executors.newFixedThreadPool(HTTP_THREADS, daemonThreads("capstan-peer-http-"));
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemonThreads("capstan-peer-timer-"));
        // Deadlines are cancelled as soon as their call completes; do not keep them queued.
        timer.setRemoveOnCancelPolicy(true);
        return new PeerTransport(settings, tls, advertisedAddress, inbound, http, timer, System::nanoTime);
    }

    /**
     * The peer routes, one {@code POST} path per Ratis operation under {@value Operation#PATH_PREFIX}.
     * Server-to-server paths accept bodies up to {@code maxMessageBytes}; client and admin paths
     * up to the largest log entry Ratis can replicate. They are exempt from the web layer's admission
     * budgets, so that no client load ever makes Raft's messages wait or refuses them; the inbound
     * executor bounds what they cost.
     *
     * @param owner gate of the component that owns Raft; the web layer answers 503 while it is closed
     */
    public List<Route> routes(Gate owner) {
        Objects.requireNonNull(owner, "owner");
        Map<Operation, InboundCalls.InboundCall<?>> calls = InboundCalls.all(ordered);
        List<Route> routes = new ArrayList<>();
        for (Operation operation : Operation.values()) {
            routes.add(new Route("POST", operation.path(), owner, operation.maxBodyBytes(limits), Admission.EXEMPT,
                    new PeerRouteHandler(operation, calls.get(operation), authenticator, inbound, inboundExecutor)));
        }
        return List.copyOf(routes);
    }

    /**
     * Makes a Raft server or client built from these properties and parameters use this transport:
     * sets {@code raft.rpc.type}, sizes Ratis's append batches, snapshot chunks and log write
     * buffer to fit {@code maxMessageBytes} (all in one place so they cannot drift apart), and
     * puts this transport into {@code parameters}. Timeouts stay Ratis's own: outbound calls use
     * its server and client request timeouts.
     *
     * @throws IllegalStateException if the transport is closed
     */
    public void configure(RaftProperties properties, Parameters parameters) {
        Objects.requireNonNull(properties, "properties");
        Objects.requireNonNull(parameters, "parameters");
        if (closed.get()) {
            throw new IllegalStateException("peer transport is closed");
        }
        RaftConfigKeys.Rpc.setType(properties, new WebRpcType());
        limits.applyTo(properties);
        parameters.put(WebRpcType.TRANSPORT_PARAMETER, this, PeerTransport.class);
    }

    /** The fault-injection seam of this member's outgoing requests; all off unless a test turns them on. */
    public PeerFaults faults() {
        return faults;
    }

    /**
     * Stops the transport's threads: requests in flight fail, the routes answer 503. Idempotent.
     * Close it after the Raft server and clients that use it.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        timer.shutdownNow();
        inboundExecutor.shutdown();
        httpExecutor.shutdown();
        try {
            if (!inboundExecutor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                    || !httpExecutor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("peer transport threads still busy after {}; interrupting them", CLOSE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            inboundExecutor.shutdownNow();
            httpExecutor.shutdownNow();
        }
    }

    WebServerRpc newServerRpc(RaftServer server, RpcType type) {
        return new WebServerRpc(server, type, carrier, inbound, advertisedAddress);
    }

    WebClientRpc newClientRpc(ClientId clientId, RaftProperties properties) {
        return new WebClientRpc(clientId, properties, carrier, limits.clientBodyBytes());
    }

    /** Requests received and handed to Ratis so far. */
    long handedToRatis() {
        return inbound.handedToRatis();
    }

    TransportLimits limits() {
        return limits;
    }

    private void expireOrderedRequests() {
        try {
            ordered.expire();
        } catch (RuntimeException e) {
            // A failure here must not cancel the periodic task.
            LOG.error("expiring ordered client requests failed", e);
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
