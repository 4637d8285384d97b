package io.capstan.transport;

import io.capstan.web.Admission;
import io.capstan.web.Gate;
import io.capstan.web.Route;
import io.capstan.web.TlsSettings;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.DefaultByteBufferPool;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
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
import org.apache.ratis.server.leader.LogAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * Ratis RPC carried over the web layer, for one member: the peer channel route its web server
 * mounts, and the Ratis plug-in ({@link WebRpcType}) through which its Raft server and clients
 * send.
 *
 * <p>Wiring, in the order the lifecycle runs it:
 *
 * <ol>
 *   <li>{@link #create} before anything starts; it opens no connection and needs no web server;
 *   <li>{@link #routes} into the web server's route list, behind the gate of the component that
 *       owns Raft (closed gate: 503);
 *   <li>once the web server is ready, {@link #configure} on the Raft server's and clients'
 *       properties and parameters, then Ratis builds and starts the server. Until Ratis has started
 *       the server's RPC, the route answers 503 and nothing is sent to a peer;
 *   <li>{@link #close} after the Raft server and its clients are closed, before the web server
 *       stops.
 * </ol>
 *
 * <p>Owned threads, all daemon and named {@code capstan-peer-*}: the inbound executor ({@value
 * #INBOUND_THREADS} threads, {@value #INBOUND_QUEUE} queued tasks, beyond that a retryable
 * refusal), on which received requests are decoded and handed to Ratis; one XNIO I/O thread for the
 * connections this member opens to its peers, on which their answers arrive (the connections peers
 * open to this member are the web layer's); one timer thread for deadlines, fault delays and the
 * ordered-request expiry. Everything else is immutable or owned by the classes it names ({@link
 * PeerFaults}, {@link InboundBinding}, {@link OrderedClientRequests}, {@link PeerChannels}, {@link
 * PeerChannelEndpoint}).
 */
public final class PeerTransport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerTransport.class);

    static final int INBOUND_THREADS = 8;
    static final int INBOUND_QUEUE = 1024;
    private static final int BUFFER_BYTES = 16 * 1024;
    private static final Duration EXPIRY_INTERVAL = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final TransportLimits limits;
    private final Supplier<InetSocketAddress> advertisedAddress;
    private final PeerFaults faults = new PeerFaults();
    private final PeerAuthenticator authenticator;
    private final InboundBinding inbound = new InboundBinding();
    private final OrderedClientRequests ordered;
    private final ExecutorService inboundExecutor;
    private final XnioWorker worker;
    private final ScheduledExecutorService timer;
    private final PeerChannels channels;
    private final PeerChannelEndpoint endpoint;
    private final LeaderContact leaderContact;
    private final LongSupplier nanoTime;
    private final AtomicBoolean closed = new AtomicBoolean();

    PeerTransport(
            TransportSettings settings,
            Optional<TlsSettings> tls,
            Supplier<InetSocketAddress> advertisedAddress,
            ExecutorService inboundExecutor,
            XnioWorker worker,
            ScheduledExecutorService timer,
            LongSupplier nanoTime) {
        this.limits = TransportLimits.of(settings.maxMessageBytes());
        this.advertisedAddress = advertisedAddress;
        this.authenticator = new PeerAuthenticator(settings.secret());
        this.ordered = new OrderedClientRequests(settings.requestTimeout(), nanoTime);
        this.inboundExecutor = inboundExecutor;
        this.worker = worker;
        this.timer = timer;
        UndertowXnioSsl ssl =
                tls.map(
                                t ->
                                        new UndertowXnioSsl(
                                                worker.getXnio(), OptionMap.EMPTY, t.peerContext()))
                        .orElse(null);
        this.channels =
                new PeerChannels(
                        worker,
                        new DefaultByteBufferPool(true, BUFFER_BYTES),
                        ssl,
                        authenticator,
                        faults,
                        timer,
                        limits.peerBodyBytes(),
                        settings.connectTimeout(),
                        nanoTime);
        this.nanoTime = nanoTime;
        this.leaderContact = new LeaderContact(timer, nanoTime, settings.requestTimeout());
        this.endpoint =
                new PeerChannelEndpoint(
                        InboundCalls.all(ordered, leaderContact),
                        authenticator,
                        inbound,
                        inboundExecutor,
                        limits);
        timer.scheduleWithFixedDelay(
                this::expireOrderedRequests,
                EXPIRY_INTERVAL.toMillis(),
                EXPIRY_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * A transport with its own threads, over cleartext.
     *
     * @param advertisedAddress where this member's web layer can be reached; asked only once Ratis
     *     runs, so it may read the web server's bound address
     */
    public static PeerTransport create(
            TransportSettings settings, Supplier<InetSocketAddress> advertisedAddress) {
        return create(settings, Optional.empty(), advertisedAddress);
    }

    /**
     * A transport with its own threads; with {@code tls}, over TLS to peers whose web layers serve
     * those settings: this member presents its certificate as a client certificate and trusts
     * peers' certificates as {@link TlsSettings#peerContext()} says (each must name the host of the
     * peer's address).
     */
    public static PeerTransport create(
            TransportSettings settings,
            Optional<TlsSettings> tls,
            Supplier<InetSocketAddress> advertisedAddress) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(advertisedAddress, "advertisedAddress");
        ThreadPoolExecutor inbound =
                new ThreadPoolExecutor(
                        INBOUND_THREADS,
                        INBOUND_THREADS,
                        0,
                        TimeUnit.SECONDS,
                        new ArrayBlockingQueue<>(INBOUND_QUEUE),
                        daemonThreads("capstan-peer-inbound-"));
        ScheduledThreadPoolExecutor timer =
                new ScheduledThreadPoolExecutor(1, daemonThreads("capstan-peer-timer-"));
        // Deadlines are cancelled as soon as their call completes; do not keep them queued.
        timer.setRemoveOnCancelPolicy(true);
        XnioWorker worker;
        try {
            worker =
                    Xnio.getInstance(PeerTransport.class.getClassLoader())
                            .createWorker(
                                    OptionMap.builder()
                                            .set(Options.WORKER_NAME, "capstan-peer")
                                            .set(Options.WORKER_IO_THREADS, 1)
                                            .set(Options.WORKER_TASK_CORE_THREADS, 1)
                                            .set(Options.WORKER_TASK_MAX_THREADS, 1)
                                            .set(Options.THREAD_DAEMON, true)
                                            .set(Options.TCP_NODELAY, true)
                                            .getMap());
        } catch (IOException e) {
            inbound.shutdown();
            timer.shutdown();
            throw new IllegalStateException(
                    "cannot start the peer transport's I/O thread: " + e.getMessage(), e);
        }
        return new PeerTransport(
                settings, tls, advertisedAddress, inbound, worker, timer, System::nanoTime);
    }

    /**
     * The peer route: {@code GET} {@value PeerChannels#PATH}, where peers open their channel to
     * this member with a WebSocket handshake. It is exempt from the web layer's admission budgets,
     * so that no client load ever makes Raft's messages wait or refuses them; the inbound executor
     * bounds what they cost.
     *
     * @param owner gate of the component that owns Raft; the web layer answers 503 while it is
     *     closed
     */
    public List<Route> routes(Gate owner) {
        Objects.requireNonNull(owner, "owner");
        return List.of(Route.get(PeerChannels.PATH, owner, Admission.EXEMPT, endpoint));
    }

    /**
     * Makes a Raft server or client built from these properties and parameters use this transport:
     * sets {@code raft.rpc.type}, sizes Ratis's append batches, snapshot chunks and log write
     * buffer to fit {@code maxMessageBytes} (all in one place so they cannot drift apart), and puts
     * this transport into {@code parameters}. Timeouts stay Ratis's own: outbound calls use its
     * server and client request timeouts.
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

    /**
     * Proves that {@code division}, a Raft server on this transport, still leads: completes with
     * its read index (its commit index when the proof began) once a majority of its voters accepted
     * its term in appends sent after the call, without writing a log entry. Fails with Ratis's
     * {@code NotLeaderException} at once when it does not lead (or has not committed an entry of
     * its term yet), and with {@code ReadIndexException} when no majority answers within the
     * request timeout. Linearizable reads wait for it (see {@link LeaderContact} for why not
     * Ratis's own).
     */
    public CompletableFuture<Long> confirmLeadership(RaftServer.Division division) {
        Objects.requireNonNull(division, "division");
        return leaderContact.confirm(division);
    }

    /** Ratis made {@code appender}; leadership rounds wake it to send a heartbeat. */
    void appenderStarted(LogAppender appender) {
        leaderContact.appenderStarted(appender);
    }

    /**
     * The fault-injection seam of this member's outgoing requests; all off unless a test turns them
     * on.
     */
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
        channels.close();
        endpoint.closeAll();
        timer.shutdownNow();
        inboundExecutor.shutdown();
        worker.shutdown();
        try {
            if (!inboundExecutor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                    || !worker.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn(
                        "peer transport threads still busy after {}; interrupting them",
                        CLOSE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            inboundExecutor.shutdownNow();
            worker.shutdownNow();
        }
    }

    WebServerRpc newServerRpc(RaftServer server, RpcType type) {
        return new WebServerRpc(
                server, type, channels, inbound, advertisedAddress, leaderContact, nanoTime);
    }

    WebClientRpc newClientRpc(ClientId clientId, RaftProperties properties) {
        return new WebClientRpc(clientId, properties, channels, limits.clientBodyBytes());
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
