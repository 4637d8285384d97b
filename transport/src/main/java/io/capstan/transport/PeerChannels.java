package io.capstan.transport;

import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.websockets.client.WebSocketClient;
import io.undertow.websockets.client.WebSocketClientNegotiation;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Pooled;
import org.xnio.XnioWorker;
import org.xnio.http.UpgradeFailedException;
import org.xnio.ssl.XnioSsl;

/**
 * Carries requests to peers and brings back their answers, over one WebSocket per peer that the
 * peer's web layer serves at {@link #PATH}. Each request is a {@link PeerFrame} with an id of this
 * member's choosing; the peer answers with a frame carrying the same id, in whatever order its
 * answers are ready. So one persistent connection per peer carries every concurrent request, with
 * no HTTP request, no thread and no connection per message.
 *
 * <p>A connection opens on the first request to a peer and is opened again on the next request
 * after it closed, at most once per {@link #RECONNECT_PAUSE}; the opening request proves membership
 * with the cluster secret (and, with TLS, this member's certificate, checked against the peer's;
 * the peer's certificate must name the host it is reached at). A connection closes when the peer or
 * the network closes it, when a request to the peer passes its deadline while nothing at all
 * arrived from the peer since that request was sent (a peer that went silent: its replacement opens
 * on the next request), and when this transport closes. Requests pending on a closed connection
 * fail at once, with an {@link IOException} Ratis retries.
 *
 * <p>Every call ends by its deadline, answered or failed, even when the peer never answers or a
 * fault drops it. Failures reach the caller as the {@link IOException}s Ratis's retry logic
 * understands: {@link TimeoutIOException} for a missed deadline, {@link ServerNotReadyException}
 * when the peer's Raft server is not up yet, the peer's own exception when Ratis failed the request
 * there, and an {@link IOException} naming the peer when it cannot be reached.
 *
 * <p>Threads: calls may come from any thread. Connections open and receive on the XNIO worker's I/O
 * thread, which completes answers: callers chain only non-blocking work. Deadlines and fault delays
 * run on the timer thread. The map of connections is concurrent; each connection's state is guarded
 * by its peer's {@link PeerAddress} lock, its pending requests are a concurrent map.
 */
final class PeerChannels implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerChannels.class);

    /** Where every member's web layer serves the peer channel. */
    static final String PATH = "/raft/v2/channel";

    /** The least time between two attempts to open a connection to one peer. */
    static final Duration RECONNECT_PAUSE = Duration.ofMillis(100);

    /** The TLS version of peer channels; see the constructor. */
    static final String PEER_TLS_PROTOCOL = "TLSv1.2";

    /** Requests one connection may have pending; more are refused as a busy peer would be. */
    static final int MAX_PENDING = 8192;

    private final XnioWorker worker;
    private final ByteBufferPool buffers;
    private final XnioSsl ssl;
    private final PeerAuthenticator authenticator;
    private final PeerFaults faults;
    private final ScheduledExecutorService timer;
    private final long maxReplyBytes;
    private final Duration connectTimeout;
    private final LongSupplier nanoTime;
    private final OptionMap options;
    private final Map<URI, PeerAddress> peers = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param ssl TLS to peers, or null for cleartext
     * @param maxReplyBytes the largest answer accepted; a larger one closes the connection
     */
    PeerChannels(
            XnioWorker worker,
            ByteBufferPool buffers,
            XnioSsl ssl,
            PeerAuthenticator authenticator,
            PeerFaults faults,
            ScheduledExecutorService timer,
            long maxReplyBytes,
            Duration connectTimeout,
            LongSupplier nanoTime) {
        this.worker = worker;
        this.buffers = buffers;
        this.ssl = ssl;
        this.authenticator = authenticator;
        this.faults = faults;
        this.timer = timer;
        this.maxReplyBytes = maxReplyBytes;
        this.connectTimeout = connectTimeout;
        this.nanoTime = nanoTime;
        // A peer's certificate must name the host this member reaches it at, as HTTPS checks.
        // TLS 1.2: Undertow's WebSocket client stalls in TLS 1.3 handshakes (it never reads the
        // server's flight after its ServerHello).
        this.options =
                ssl == null
                        ? OptionMap.EMPTY
                        : OptionMap.builder()
                                .set(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, "HTTPS")
                                .setSequence(Options.SSL_ENABLED_PROTOCOLS, PEER_TLS_PROTOCOL)
                                .getMap();
    }

    /**
     * The scheme of peers' base URIs: {@code https} when this member talks TLS to peers, else
     * {@code http}.
     */
    String scheme() {
        return ssl == null ? "http" : "https";
    }

    /**
     * Sends {@code body} as an {@code operation} request to {@code peer}, whose web layer listens
     * at {@code base} ({@code http://host:port} or {@code https://host:port}).
     *
     * @return the reply's bytes; completes within {@code timeout}
     */
    CompletableFuture<byte[]> call(
            RaftPeerId peer, URI base, Operation operation, byte[] body, Duration timeout) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new AlreadyClosedException("peer transport is closed"));
            return result;
        }
        try {
            ScheduledFuture<?> deadline =
                    timer.schedule(
                            () ->
                                    result.completeExceptionally(
                                            new TimeoutIOException(
                                                    "no answer from "
                                                            + peer
                                                            + " to "
                                                            + operation.label()
                                                            + " within "
                                                            + timeout)),
                            timeout.toNanos(),
                            TimeUnit.NANOSECONDS);
            result.whenComplete((reply, error) -> deadline.cancel(false));
            PeerFaults.Fault fault = faults.faultFor(peer);
            PeerAddress target = peers.computeIfAbsent(base, PeerAddress::new);
            if (fault.drop()) {
                faults.recordDrop();
            } else if (!fault.delay().isZero()) {
                timer.schedule(
                        () -> target.send(peer, operation, body, result),
                        fault.delay().toNanos(),
                        TimeUnit.NANOSECONDS);
            } else {
                target.send(peer, operation, body, result);
            }
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new AlreadyClosedException("peer transport is closed", e));
        }
        return result;
    }

    /** Closes every connection; pending requests fail. Idempotent. */
    @Override
    public void close() {
        closed = true;
        peers.values().forEach(PeerAddress::close);
    }

    /**
     * Waits for a call made through this carrier, for Ratis's blocking protocol methods. Needs no
     * timeout of its own: every call completes by its deadline.
     */
    static <T> T await(CompletableFuture<T> call) throws IOException {
        try {
            return call.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            InterruptedIOException interrupted =
                    new InterruptedIOException("interrupted waiting for a peer");
            interrupted.initCause(e);
            throw interrupted;
        } catch (ExecutionException e) {
            Throwable cause = PeerWire.unwrap(e);
            throw cause instanceof IOException io ? io : new IOException(cause.toString(), cause);
        }
    }

    /** One peer's web address, and the connection to it when one is open or opening. */
    private final class PeerAddress {
        private final URI base;
        private final URI channelUri;
        // Guarded by this.
        private Connection open;
        private CompletableFuture<Connection> opening;
        private long lastFailureNanos;
        private IOException lastFailure;

        PeerAddress(URI base) {
            this.base = base;
            this.channelUri =
                    URI.create((ssl == null ? "ws://" : "wss://") + base.getRawAuthority() + PATH);
        }

        void send(
                RaftPeerId peer,
                Operation operation,
                byte[] body,
                CompletableFuture<byte[]> result) {
            if (result.isDone()) {
                return;
            }
            connection(peer)
                    .whenComplete(
                            (connection, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(PeerWire.unwrap(error));
                                } else {
                                    connection.send(operation, body, result);
                                }
                            });
        }

        private CompletableFuture<Connection> connection(RaftPeerId peer) {
            CompletableFuture<Connection> started;
            synchronized (this) {
                if (closed) {
                    return CompletableFuture.failedFuture(
                            new AlreadyClosedException("peer transport is closed"));
                }
                if (open != null) {
                    return CompletableFuture.completedFuture(open);
                }
                if (opening != null) {
                    return opening;
                }
                if (lastFailure != null
                        && nanoTime.getAsLong() - lastFailureNanos < RECONNECT_PAUSE.toNanos()) {
                    return CompletableFuture.failedFuture(
                            new IOException(lastFailure.getMessage(), lastFailure));
                }
                started = new CompletableFuture<>();
                opening = started;
            }
            open(peer, started);
            return started;
        }

        private void open(RaftPeerId peer, CompletableFuture<Connection> started) {
            IoFuture<WebSocketChannel> connecting;
            try {
                connecting =
                        WebSocketClient.connectionBuilder(worker, buffers, channelUri)
                                .setSsl(ssl)
                                .setOptionMap(options)
                                .setClientNegotiation(new Negotiation())
                                .connect();
            } catch (RuntimeException e) {
                failed(
                        started,
                        new IOException(
                                "cannot connect to " + peer + " at " + channelUri + ": " + e, e));
                return;
            }
            // XNIO cannot cancel a connection whose handshake is under way, so the deadline fails
            // the opening itself; a connection that completes after it is closed on arrival.
            ScheduledFuture<?> giveUp;
            try {
                giveUp =
                        timer.schedule(
                                () -> {
                                    connecting.cancel();
                                    failed(
                                            started,
                                            new TimeoutIOException(
                                                    "no connection to "
                                                            + peer
                                                            + " at "
                                                            + channelUri
                                                            + " within "
                                                            + connectTimeout));
                                },
                                connectTimeout.toNanos(),
                                TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                connecting.cancel();
                failed(started, new AlreadyClosedException("peer transport is closed", e));
                return;
            }
            connecting.addNotifier(
                    new IoFuture.HandlingNotifier<WebSocketChannel, Void>() {
                        @Override
                        public void handleDone(WebSocketChannel channel, Void attachment) {
                            giveUp.cancel(false);
                            opened(peer, channel, started);
                        }

                        @Override
                        public void handleFailed(IOException exception, Void attachment) {
                            giveUp.cancel(false);
                            failed(started, refusal(peer, exception));
                        }
                    },
                    null);
        }

        private void opened(
                RaftPeerId peer, WebSocketChannel channel, CompletableFuture<Connection> started) {
            Connection connection = new Connection(this, peer, channel);
            boolean keep;
            synchronized (this) {
                // Not kept when the opening gave up meanwhile, or the transport closed.
                keep = opening == started && !closed;
                if (keep) {
                    opening = null;
                    open = connection;
                    lastFailure = null;
                }
            }
            if (!keep) {
                IoUtils.safeClose(channel);
                started.completeExceptionally(
                        new AlreadyClosedException("peer transport is closed"));
                return;
            }
            channel.getReceiveSetter().set(connection.receiver());
            channel.addCloseTask(
                    closedChannel ->
                            connection.closed(
                                    new IOException(
                                            "the connection to "
                                                    + peer
                                                    + " at "
                                                    + base
                                                    + " closed")));
            channel.resumeReceives();
            LOG.debug("peer channel to {} at {} open", peer, channelUri);
            started.complete(connection);
        }

        /** Ends the opening {@code started} with {@code failure}, unless it already ended. */
        private void failed(CompletableFuture<Connection> started, IOException failure) {
            synchronized (this) {
                if (opening != started) {
                    return;
                }
                opening = null;
                lastFailure = failure;
                lastFailureNanos = nanoTime.getAsLong();
            }
            started.completeExceptionally(failure);
        }

        /** Forgets {@code connection} if it is the open one. */
        synchronized void forget(Connection connection) {
            if (open == connection) {
                open = null;
            }
        }

        void close() {
            Connection current;
            synchronized (this) {
                current = open;
                open = null;
            }
            if (current != null) {
                current.close();
            }
        }

        /** Why opening failed, as Ratis's retry logic reads it. */
        private IOException refusal(RaftPeerId peer, IOException failure) {
            String message = String.valueOf(failure.getMessage());
            if (failure instanceof UpgradeFailedException && message.endsWith(" 401")) {
                return new IOException(
                        peer
                                + " refused this member's cluster secret (HTTP 401); the members' secrets"
                                + " differ",
                        failure);
            }
            if (failure instanceof UpgradeFailedException && message.endsWith(" 503")) {
                return new ServerNotReadyException(
                        peer + " is not ready for peer messages (HTTP 503)");
            }
            return new IOException(
                    "cannot open a peer channel to " + peer + " at " + channelUri + ": " + failure,
                    failure);
        }
    }

    /** Adds the cluster secret to the opening request. */
    private final class Negotiation extends WebSocketClientNegotiation {
        Negotiation() {
            super(List.of(), List.of());
        }

        @Override
        public void beforeRequest(Map<String, List<String>> headers) {
            headers.put(PeerAuthenticator.HEADER_NAME, List.of(authenticator.headerValue()));
        }
    }

    /** An open connection to one peer and the requests waiting for its answers. */
    private final class Connection {
        private final PeerAddress owner;
        private final RaftPeerId peer;
        private final WebSocketChannel channel;

        /** Requests waiting for their answers, by id. */
        private final Map<Long, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();

        /** When anything last arrived on this connection; written by the I/O thread. */
        private volatile long lastReceivedNanos;

        private volatile boolean ended;

        Connection(PeerAddress owner, RaftPeerId peer, WebSocketChannel channel) {
            this.owner = owner;
            this.peer = peer;
            this.channel = channel;
            this.lastReceivedNanos = nanoTime.getAsLong();
        }

        void send(Operation operation, byte[] body, CompletableFuture<byte[]> result) {
            if (pending.size() >= MAX_PENDING) {
                result.completeExceptionally(
                        new ResourceUnavailableException(
                                MAX_PENDING
                                        + " requests to "
                                        + peer
                                        + " are already waiting for answers"));
                return;
            }
            long id = ids.incrementAndGet();
            long sentNanos = nanoTime.getAsLong();
            pending.put(id, result);
            result.whenComplete(
                    (reply, error) -> {
                        if (pending.remove(id) != null && error instanceof TimeoutIOException) {
                            timedOut(sentNanos);
                        }
                    });
            if (ended) {
                fail(id, new IOException("the connection to " + peer + " closed"));
                return;
            }
            PeerFrame.request(id, operation, body)
                    .sendOn(
                            channel,
                            error -> {
                                fail(
                                        id,
                                        new IOException(
                                                "cannot send to " + peer + ": " + error, error));
                                close();
                            });
        }

        /**
         * A request passed its deadline. If nothing at all arrived since it was sent, the peer or
         * the path to it went silent: close, so the next request opens a new connection.
         */
        private void timedOut(long sentNanos) {
            if (lastReceivedNanos - sentNanos < 0 && !ended) {
                LOG.info(
                        "nothing arrived from {} since a request that timed out was sent; reconnecting",
                        peer);
                close();
            }
        }

        AbstractReceiveListener receiver() {
            return new AbstractReceiveListener() {
                @Override
                protected void onFullBinaryMessage(
                        WebSocketChannel channel, BufferedBinaryMessage message) {
                    lastReceivedNanos = nanoTime.getAsLong();
                    PeerFrame frame;
                    Pooled<ByteBuffer[]> data = message.getData();
                    try {
                        frame = PeerFrame.decode(data.getResource());
                    } catch (PeerFrame.MalformedFrameException e) {
                        LOG.warn(
                                "{} sent a malformed peer frame ({}); closing the connection",
                                peer,
                                e.getMessage());
                        close();
                        return;
                    } finally {
                        data.free();
                    }
                    answer(frame);
                }

                @Override
                protected void onFullTextMessage(
                        WebSocketChannel channel, BufferedTextMessage message) {
                    LOG.warn(
                            "{} sent a text message on the peer channel; closing the connection",
                            peer);
                    close();
                }

                @Override
                protected long getMaxBinaryBufferSize() {
                    return maxReplyBytes + PeerFrame.HEADER_BYTES;
                }

                @Override
                protected void onError(WebSocketChannel channel, Throwable error) {
                    LOG.debug("peer channel to {} failed: {}", peer, error.toString());
                    super.onError(channel, error);
                }
            };
        }

        private void answer(PeerFrame frame) {
            CompletableFuture<byte[]> waiting = pending.get(frame.id());
            if (waiting == null) {
                // Its caller gave up (deadline) before the answer came.
                return;
            }
            switch (frame.kind()) {
                case REPLY -> waiting.complete(frame.payload());
                case FAILURE ->
                        waiting.completeExceptionally(
                                PeerWire.decodeError(frame.payload(), peer.toString()));
                case REQUEST -> {
                    LOG.warn(
                            "{} sent a request on a connection this member opened; closing it",
                            peer);
                    close();
                }
            }
        }

        private void fail(long id, IOException failure) {
            CompletableFuture<byte[]> waiting = pending.get(id);
            if (waiting != null) {
                waiting.completeExceptionally(failure);
            }
        }

        /** Runs once the channel closed, whoever closed it. */
        void closed(IOException failure) {
            ended = true;
            owner.forget(this);
            pending.values().forEach(waiting -> waiting.completeExceptionally(failure));
        }

        void close() {
            ended = true;
            owner.forget(this);
            IoUtils.safeClose(channel);
        }
    }
}
