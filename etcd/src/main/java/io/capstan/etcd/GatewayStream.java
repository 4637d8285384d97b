package io.capstan.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.StringValue;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;

/**
 * The body of one streamed answer of etcd's JSON gateway (a server-streaming call): a 200 whose
 * body is one {@code {"result": message}} JSON object per line, in protobuf's JSON mapping, as
 * grpc-gateway frames stream messages, until the producer finishes or the client goes away.
 *
 * <p><b>Threads and flow control.</b> A producer sends from any thread; each line is queued and
 * written by the connection's I/O thread, which alone touches the response channel. The queue is
 * bounded: past {@link #MAX_QUEUED_BYTES} {@link #isReady} says no, and once the queue drains below
 * the bound the producer is told {@link Producer#ready} on the API executor, as a gRPC call signals
 * ready. {@code queue}, {@code queuedBytes}, {@code full}, {@code finishing}, {@code reset} and
 * {@code closed} are guarded by this object's lock; {@code channel} belongs to the I/O thread.
 *
 * <p><b>States.</b> Open from {@link #start}; finishing once the producer called {@link #finish} or
 * {@link #fail} (the response ends when the queue is written: cleanly, or by a reset); closed when
 * the response ended, a write failed or the connection closed, after which lines are dropped and,
 * unless the producer finished, it is told {@link Producer#closed}.
 */
final class GatewayStream {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayStream.class);
    static final int MAX_QUEUED_BYTES = 64 * 1024;

    // Immutable and thread-safe.
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    /** What the stream tells whoever produces its messages. */
    interface Producer {
        /** There is room again after {@link #isReady} said no; runs on the API executor. */
        void ready();

        /**
         * The client went away before the producer finished; runs on the I/O thread, must not
         * block.
         */
        void closed();
    }

    private final HttpServerExchange exchange;
    private final Executor executor;

    /** Set once by {@link #start}, before any line is written. */
    private volatile Producer producer;

    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private int queuedBytes;

    /** {@link #isReady} said no; the producer is told when there is room again. */
    private boolean full;

    private boolean finishing;

    /** The response ends with a reset rather than the end of its body. */
    private boolean reset;

    private boolean closed;
    private StreamSinkChannel channel;

    /**
     * @param executor the API executor, where {@link Producer#ready} runs
     */
    GatewayStream(HttpServerExchange exchange, Executor executor) {
        this.exchange = exchange;
        this.executor = executor;
    }

    /** Sends the 200 and whatever is queued, on the I/O thread; call once. */
    void start(Producer producer) {
        this.producer = producer;
        exchange.getIoThread().execute(this::open);
    }

    synchronized boolean isReady() {
        if (closed || queuedBytes < MAX_QUEUED_BYTES) {
            return true;
        }
        full = true;
        return false;
    }

    /** Queues {@code message} as one line; dropped once the stream closed. */
    void send(MessageOrBuilder message) {
        String json;
        try {
            json = PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a gateway stream message does not print as JSON", e);
        }
        queue(("{\"result\":" + json + "}\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Ends a call that failed after the stream began: queues grpc-gateway's error line for {@code
     * error}, and the response ends once the queue is written. As grpc-gateway, the body then ends;
     * but when the member cannot serve the stream ({@code UNAVAILABLE}: it stops), the stream is
     * reset instead (HTTP/2 RST_STREAM; on HTTP/1.1 the connection closes before the body's last
     * chunk), so that no client takes the body for a complete answer: the client reconnects, as a
     * gRPC client does on UNAVAILABLE. The producer sends nothing after this.
     */
    void fail(EtcdError error) {
        int http = error.httpStatus();
        String line =
                "{\"error\":{\"grpc_code\":"
                        + error.code().value()
                        + ",\"http_code\":"
                        + http
                        + ",\"message\":"
                        + quoted(error.message())
                        + ",\"http_status\":"
                        + quoted(StatusCodes.getReason(http))
                        + "}}\n";
        queue(line.getBytes(StandardCharsets.UTF_8));
        end(error.code() == Status.Code.UNAVAILABLE);
    }

    /** The producer sent its last line: the response ends once the queue is written. */
    void finish() {
        end(false);
    }

    private void end(boolean byReset) {
        synchronized (this) {
            if (closed || finishing) {
                return;
            }
            finishing = true;
            reset = byReset;
        }
        exchange.getIoThread().execute(this::flush);
    }

    private void queue(byte[] line) {
        synchronized (this) {
            if (closed || finishing) {
                return;
            }
            queue.add(ByteBuffer.wrap(line));
            queuedBytes += line.length;
        }
        exchange.getIoThread().execute(this::flush);
    }

    /** I/O thread: sends the headers and takes the response channel. */
    private void open() {
        exchange.getConnection().addCloseListener(connection -> closed());
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        channel = exchange.getResponseChannel();
        channel.getWriteSetter().set(c -> flush());
        channel.getCloseSetter().set(c -> closed());
        flush();
    }

    /**
     * I/O thread: writes what is queued without blocking; resumes on writability if the socket is
     * full.
     */
    private void flush() {
        if (channel == null) {
            return;
        }
        boolean room = false;
        try {
            while (true) {
                ByteBuffer head;
                boolean end;
                boolean byReset;
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    head = queue.peek();
                    end = head == null && finishing;
                    byReset = reset;
                }
                if (end && byReset) {
                    // What was written reaches the client before the reset.
                    if (!channel.flush()) {
                        channel.resumeWrites();
                        return;
                    }
                    synchronized (this) {
                        closed = true;
                    }
                    // An HTTP/2 exchange's connection is its stream: this resets the stream alone.
                    IoUtils.safeClose(exchange.getConnection());
                    return;
                }
                if (end) {
                    synchronized (this) {
                        closed = true;
                    }
                    // Ends the chunked body, flushing on its own if the socket is full.
                    exchange.endExchange();
                    return;
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
            LOG.debug("gateway stream client went away: {}", e.toString());
            IoUtils.safeClose(exchange.getConnection());
            closed();
        } finally {
            if (room) {
                wakeProducer();
            }
        }
    }

    private void wakeProducer() {
        try {
            executor.execute(producer::ready);
        } catch (RejectedExecutionException e) {
            closed();
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
        producer.closed();
    }

    /** {@code text} as a JSON string, escaped by protobuf's printer. */
    private static String quoted(String text) {
        try {
            return PRINTER.print(StringValue.of(text));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a string does not print as JSON", e);
        }
    }
}
