package io.capstan.transport;

import io.capstan.web.JsonResponses;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.websockets.WebSocketConnectionCallback;
import io.undertow.websockets.WebSocketProtocolHandshakeHandler;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.spi.WebSocketHttpExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.Pooled;

/**
 * The receiving end of peer channels: the route at {@link PeerChannels#PATH} where peers open their
 * channel to this member, and each channel's requests handed to the bound Ratis server.
 *
 * <p>Opening a channel, each step ending the request when it fails: the peer must prove membership
 * (401 JSON, checked on headers in constant time, before anything else); a Raft server must be
 * bound (503 JSON with {@code Retry-After}: the peer tries again later); the request must be a
 * WebSocket handshake (400 JSON otherwise), which Undertow answers before handing the connection
 * over.
 *
 * <p>On a channel, every message must be a request frame ({@link PeerFrame}); anything else closes
 * the channel. A request larger than its operation allows (client requests are held below the
 * largest log entry, server ones take whole append batches), a malformed one, one that arrives
 * while no Raft server is bound or while the inbound executor is full, is answered with a failure
 * frame and never reaches Ratis; the channel stays open. A request that reaches Ratis is answered
 * with its reply, or with the exception Ratis raised (see {@link PeerWire}).
 *
 * <p>Threads: the route and the channels' messages start on Undertow I/O threads, which only check
 * headers and read frame headers; decoding and the call into Ratis run on the transport's inbound
 * executor; answers are sent from whichever thread completes Ratis's future, one frame at a time
 * per channel (its lock). The set of open channels is concurrent; everything else is immutable.
 */
final class PeerChannelEndpoint implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(PeerChannelEndpoint.class);
    static final String UNAUTHORIZED = "unauthorized";

    private final Map<Operation, InboundCalls.InboundCall<?>> calls;
    private final PeerAuthenticator authenticator;
    private final InboundBinding binding;
    private final Executor executor;
    private final TransportLimits limits;
    private final HttpHandler handshake;
    private final Set<WebSocketChannel> open = ConcurrentHashMap.newKeySet();

    PeerChannelEndpoint(
            Map<Operation, InboundCalls.InboundCall<?>> calls,
            PeerAuthenticator authenticator,
            InboundBinding binding,
            Executor executor,
            TransportLimits limits) {
        this.calls = Map.copyOf(calls);
        this.authenticator = authenticator;
        this.binding = binding;
        this.executor = executor;
        this.limits = limits;
        WebSocketConnectionCallback connected = this::connected;
        this.handshake =
                new WebSocketProtocolHandshakeHandler(
                        connected,
                        exchange ->
                                JsonResponses.sendError(
                                        exchange,
                                        400,
                                        JsonResponses.BAD_REQUEST,
                                        "the peer channel opens with a WebSocket handshake"));
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if (!authenticator.admits(exchange)) {
            LOG.debug(
                    "refused a peer channel from {}: no valid cluster secret",
                    exchange.getSourceAddress());
            JsonResponses.sendError(
                    exchange,
                    401,
                    UNAUTHORIZED,
                    "peer channels must carry the cluster secret in the "
                            + PeerAuthenticator.HEADER_NAME
                            + " header");
            return;
        }
        if (binding.server() == null) {
            exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
            JsonResponses.sendError(
                    exchange,
                    503,
                    JsonResponses.UNAVAILABLE,
                    "the Raft server of this member is not started",
                    Map.of("component", "raft"));
            return;
        }
        handshake.handleRequest(exchange);
    }

    /** Closes every channel peers opened to this member. */
    void closeAll() {
        List.copyOf(open).forEach(IoUtils::safeClose);
    }

    private void connected(WebSocketHttpExchange exchange, WebSocketChannel channel) {
        open.add(channel);
        channel.addCloseTask(open::remove);
        channel.getReceiveSetter().set(new Receiver());
        channel.resumeReceives();
        LOG.debug("peer channel from {} open", channel.getSourceAddress());
    }

    /** Reads one channel's requests; runs on its I/O thread. */
    private final class Receiver extends AbstractReceiveListener {

        @Override
        protected void onFullBinaryMessage(
                WebSocketChannel channel, BufferedBinaryMessage message) {
            PeerFrame frame;
            Pooled<ByteBuffer[]> data = message.getData();
            try {
                frame = PeerFrame.decode(data.getResource());
            } catch (PeerFrame.MalformedFrameException e) {
                LOG.warn(
                        "{} sent a malformed peer frame ({}); closing its channel",
                        channel.getSourceAddress(),
                        e.getMessage());
                IoUtils.safeClose(channel);
                return;
            } finally {
                data.free();
            }
            if (frame.kind() != PeerFrame.Kind.REQUEST) {
                LOG.warn(
                        "{} sent an answer on a channel it opened; closing it",
                        channel.getSourceAddress());
                IoUtils.safeClose(channel);
                return;
            }
            Operation operation = frame.operation();
            long limit = operation.maxBodyBytes(limits);
            if (frame.payload().length > limit) {
                fail(
                        channel,
                        frame.id(),
                        new IOException(
                                "a "
                                        + operation.label()
                                        + " request of "
                                        + frame.payload().length
                                        + " bytes exceeds the limit of "
                                        + limit
                                        + " bytes"));
                return;
            }
            try {
                executor.execute(() -> handle(channel, frame));
            } catch (RejectedExecutionException e) {
                fail(
                        channel,
                        frame.id(),
                        new ServerNotReadyException(
                                "the peer transport of this member is" + " saturated or closed"));
            }
        }

        @Override
        protected void onFullTextMessage(WebSocketChannel channel, BufferedTextMessage message) {
            LOG.warn(
                    "{} sent a text message on a peer channel; closing it",
                    channel.getSourceAddress());
            IoUtils.safeClose(channel);
        }

        @Override
        protected long getMaxBinaryBufferSize() {
            return limits.peerBodyBytes() + PeerFrame.HEADER_BYTES;
        }
    }

    /** Runs on the inbound executor. */
    private void handle(WebSocketChannel channel, PeerFrame frame) {
        Operation operation = frame.operation();
        InboundCalls.Prepared prepared;
        try {
            prepared = calls.get(operation).prepare(frame.payload());
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            fail(
                    channel,
                    frame.id(),
                    new IOException(
                            "malformed " + operation.label() + " request: " + e.getMessage()));
            return;
        }
        RaftServer server = binding.server();
        if (server == null) {
            fail(
                    channel,
                    frame.id(),
                    new ServerNotReadyException("the Raft server of this member is not started"));
            return;
        }
        binding.countHandedToRatis();
        CompletableFuture<byte[]> reply;
        try {
            reply = prepared.invoke(server);
        } catch (IOException | RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete(
                (bytes, error) -> {
                    if (error == null) {
                        send(channel, PeerFrame.reply(frame.id(), bytes));
                        return;
                    }
                    Throwable cause = PeerWire.unwrap(error);
                    if (cause instanceof IOException) {
                        LOG.debug("{} failed in Ratis: {}", operation.label(), cause.toString());
                    } else {
                        LOG.warn("{} failed in Ratis", operation.label(), cause);
                    }
                    fail(channel, frame.id(), cause);
                });
    }

    private static void fail(WebSocketChannel channel, long id, Throwable failure) {
        send(channel, PeerFrame.failure(id, PeerWire.encodeError(failure)));
    }

    private static void send(WebSocketChannel channel, PeerFrame frame) {
        frame.sendOn(
                channel,
                error -> {
                    LOG.debug(
                            "cannot answer on the peer channel from {}: {}",
                            channel.getSourceAddress(),
                            error.toString());
                    IoUtils.safeClose(channel);
                });
    }
}
