package io.capstan.controller.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.web.JsonResponses;
import io.capstan.web.RequestBodies;
import io.capstan.web.RequestContext;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;

/**
 * {@code POST /v3/watch}, etcd's JSON gateway for Watch: the body is one {@code WatchRequest} in
 * protobuf's JSON mapping holding a {@code create_request}; the answer is a 200 whose body streams
 * the {@link WatchStream}'s responses, one {@code {"result": WatchResponse}} JSON object per line,
 * as grpc-gateway frames stream messages, until the client disconnects. A body that is not such a
 * request is 400 with grpc-gateway's error shape and code 3.
 *
 * <p><b>Threads.</b> The body is read on the I/O thread, the stream is opened on the API executor,
 * and responses arrive on whatever thread the stream sends from. Each response is queued by its
 * {@link Sink} and written by the connection's I/O thread, which alone touches the response
 * channel. The sink's queue is bounded: past {@link #MAX_QUEUED_BYTES} it reports not ready, so
 * events wait for the client as they do on gRPC, and the I/O thread signals ready once the queue
 * drains below the bound. Immutable; one instance serves every request.
 */
final class WatchGateway implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(WatchGateway.class);
    static final int MAX_QUEUED_BYTES = 64 * 1024;

    // Both are immutable and thread-safe.
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private final WatchStream.Watches watches;
    private final RaftCalls raft;
    private final Executor executor;

    WatchGateway(WatchStream.Watches watches, RaftCalls raft, Executor executor) {
        this.watches = watches;
        this.raft = raft;
        this.executor = executor;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        RequestContext context = RequestContext.of(exchange);
        RequestBodies.readFully(exchange, (ex, body) -> ex.dispatch(SameThreadExecutor.INSTANCE, () -> {
            try {
                executor.execute(context.wrap(() -> open(ex, body)));
            } catch (RejectedExecutionException e) {
                fail(ex, EtcdErrors.STOPPED);
            }
        }));
    }

    /** Runs on the API executor. */
    private void open(HttpServerExchange exchange, byte[] body) {
        WatchRequest request;
        try {
            WatchRequest.Builder builder = WatchRequest.newBuilder();
            PARSER.merge(new String(body, StandardCharsets.UTF_8), builder);
            request = builder.build();
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            fail(exchange, EtcdErrors.badJson("request body is not a valid etcdserverpb.WatchRequest in JSON: "
                    + e.getMessage()));
            return;
        }
        if (!request.hasCreateRequest()) {
            fail(exchange, EtcdErrors.badJson("a watch over the gateway starts with a create_request"));
            return;
        }
        Sink sink = new Sink(exchange);
        WatchStream stream = new WatchStream(watches, raft, sink);
        sink.stream = stream;
        exchange.getIoThread().execute(sink::start);
        stream.create(request.getCreateRequest());
    }

    private static void fail(HttpServerExchange exchange, EtcdError error) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error.message());
        body.put("code", error.code().value());
        body.put("message", error.message());
        JsonResponses.send(exchange, EtcdErrors.httpStatus(error.code()), body);
    }

    /**
     * One streamed response. {@code queue}, {@code queuedBytes}, {@code full} and {@code closed}
     * are guarded by this object's lock; {@code channel} belongs to the I/O thread. States: open
     * until the connection closes or a write fails, then closed (the stream is closed, queued
     * responses are dropped).
     */
    private final class Sink implements WatchStream.Outbound {
        private final HttpServerExchange exchange;
        /** Set once, before any response is sent. */
        volatile WatchStream stream;
        private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
        private int queuedBytes;
        /** The sink said not ready; the stream is told when there is room again. */
        private boolean full;
        private boolean closed;
        private StreamSinkChannel channel;

        Sink(HttpServerExchange exchange) {
            this.exchange = exchange;
        }

        @Override
        public synchronized boolean isReady() {
            if (closed || queuedBytes < MAX_QUEUED_BYTES) {
                return true;
            }
            full = true;
            return false;
        }

        @Override
        public void send(WatchResponse response) {
            byte[] line;
            try {
                line = ("{\"result\":" + PRINTER.print(response) + "}\n").getBytes(StandardCharsets.UTF_8);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("a watch response does not print as JSON", e);
            }
            synchronized (this) {
                if (closed) {
                    return;
                }
                queue.add(ByteBuffer.wrap(line));
                queuedBytes += line.length;
            }
            exchange.getIoThread().execute(this::flush);
        }

        /** I/O thread: sends the headers and takes the response channel. */
        void start() {
            exchange.getConnection().addCloseListener(connection -> closed());
            exchange.setStatusCode(200);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
            channel = exchange.getResponseChannel();
            channel.getWriteSetter().set(c -> flush());
            channel.getCloseSetter().set(c -> closed());
            flush();
        }

        /** I/O thread: writes what is queued without blocking; resumes on writability if the socket is full. */
        private void flush() {
            if (channel == null) {
                return;
            }
            boolean room = false;
            try {
                while (true) {
                    ByteBuffer head;
                    synchronized (this) {
                        head = queue.peek();
                    }
                    if (head == null) {
                        break;
                    }
                    channel.write(head);
                    if (head.hasRemaining()) {
                        channel.resumeWrites();
                        return;
                    }
                    synchronized (this) {
                        queue.poll();
                        queuedBytes -= head.capacity();
                        if (full && queuedBytes < MAX_QUEUED_BYTES) {
                            full = false;
                            room = true;
                        }
                    }
                }
                if (channel.flush()) {
                    channel.suspendWrites();
                } else {
                    channel.resumeWrites();
                }
            } catch (IOException e) {
                LOG.debug("watch gateway client went away: {}", e.toString());
                IoUtils.safeClose(exchange.getConnection());
                closed();
            } finally {
                if (room) {
                    wakeStream();
                }
            }
        }

        private void wakeStream() {
            try {
                executor.execute(stream::ready);
            } catch (RejectedExecutionException e) {
                stream.close();
            }
        }

        private void closed() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                queue.clear();
                queuedBytes = 0;
            }
            stream.close();
        }
    }
}
