package io.capstan.web;

import io.undertow.server.Connectors;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.Protocols;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Enforces a route's body limit on a body of unknown length (chunked, or HTTP/2 without
 * Content-Length). Undertow's own entity-size check drops the connection (HTTP/1.1) or the stream
 * (HTTP/2) before anything can be answered; this one fails only the read that passes the limit,
 * with a {@link RequestTooBigException} that becomes a 413. After that:
 *
 * <ul>
 *   <li>HTTP/1.1: the request ends there and the connection closes after the 413, since the rest of
 *       the body is never read.
 *   <li>HTTP/2: the connection carries other streams, and data left unread would hold back its
 *       flow-control credit for good, so Undertow reads and discards the rest of this stream after
 *       the 413 (memory stays bounded by the stream window). Resetting the stream instead makes
 *       Undertow close the whole connection.
 * </ul>
 *
 * <p>Owned by whichever thread reads the request body; Undertow never reads one body from two
 * threads at once.
 */
final class BodyLimitConduit extends AbstractStreamSourceConduit<StreamSourceConduit> {

    private final HttpServerExchange exchange;
    private final long limit;
    private final boolean multiplexed;
    private long total;
    private boolean exceeded;

    BodyLimitConduit(StreamSourceConduit next, HttpServerExchange exchange, long limit) {
        super(next);
        this.exchange = exchange;
        this.limit = limit;
        this.multiplexed = Protocols.HTTP_2_0.equals(exchange.getProtocol());
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return ended() ? -1 : (int) counted(next.read(dst));
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return ended() ? -1 : counted(next.read(dsts, offset, length));
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
            throws IOException {
        return IoUtils.transfer(new ConduitReadableByteChannel(this), count, throughBuffer, target);
    }

    private boolean ended() {
        return exceeded && !multiplexed;
    }

    private long counted(long read) throws IOException {
        if (read <= 0) {
            return read;
        }
        if (exceeded) {
            return read;
        }
        total += read;
        if (total > limit) {
            exceeded = true;
            if (!multiplexed) {
                Connectors.terminateRequest(exchange);
                exchange.setPersistent(false);
            }
            throw new RequestTooBigException("request body exceeds " + limit + " bytes");
        }
        return read;
    }
}
