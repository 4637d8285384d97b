package io.capstan.artifacts;

import io.capstan.web.JsonResponses;
import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sends a stored artifact's bytes: the digest as the {@code ETag} (so {@code If-None-Match} answers
 * 304), one byte range on request ({@code Range: bytes=a-b}, {@code a-}, {@code -n}; 206 with
 * {@code Content-Range}, 416 when it lies past the end; several ranges, or an {@code If-Range} that
 * names other bytes, get the whole artifact), and no body for HEAD.
 *
 * <p>Non-blocking: the bytes go out through Undertow's sender from the file, chunk by chunk, each
 * chunk read when the one before was written; call from any thread that may answer the exchange.
 * The file stays open until the response ends, so a delete meanwhile does not cut it short.
 */
final class FileResponse {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    private static final int CHUNK_BYTES = 256 * 1024;

    private FileResponse() {}

    static void send(HttpServerExchange exchange, Path file, Digest digest, String mediaType) {
        String etag = "\"" + digest + "\"";
        FileChannel channel;
        long size;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
            size = channel.size();
        } catch (IOException e) {
            Errors.send(
                    exchange,
                    new Errors.Refusal(
                            404,
                            "artifact_not_found",
                            "artifact " + digest + " is not on this member any more"));
            return;
        }
        exchange.getResponseHeaders().put(Headers.ETAG, etag);
        exchange.getResponseHeaders().put(Headers.ACCEPT_RANGES, "bytes");
        String ifNoneMatch = exchange.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH);
        if (ifNoneMatch != null
                && (ifNoneMatch.strip().equals("*") || ifNoneMatch.contains(etag))) {
            close(channel);
            exchange.setStatusCode(304);
            exchange.endExchange();
            return;
        }
        long start = 0;
        long length = size;
        String range = exchange.getRequestHeaders().getFirst(Headers.RANGE);
        String ifRange = exchange.getRequestHeaders().getFirst(Headers.IF_RANGE);
        Matcher m = range == null ? null : RANGE.matcher(range.strip());
        if (m != null
                && m.matches()
                && (ifRange == null || ifRange.strip().equals(etag))
                && !(m.group(1).isEmpty() && m.group(2).isEmpty())) {
            long[] span = span(m, size);
            if (span == null) {
                close(channel);
                exchange.getResponseHeaders().put(Headers.CONTENT_RANGE, "bytes */" + size);
                JsonResponses.sendError(
                        exchange,
                        416,
                        "range_not_satisfiable",
                        "range " + range + " lies outside the artifact's " + size + " bytes",
                        Map.of("size", size));
                return;
            }
            start = span[0];
            length = span[1] - span[0] + 1;
            exchange.setStatusCode(206);
            exchange.getResponseHeaders()
                    .put(Headers.CONTENT_RANGE, "bytes " + span[0] + "-" + span[1] + "/" + size);
        }
        exchange.getResponseHeaders()
                .put(
                        Headers.CONTENT_TYPE,
                        mediaType.isEmpty() ? "application/octet-stream" : mediaType);
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, length);
        if (exchange.getRequestMethod().equals(Methods.HEAD) || length == 0) {
            close(channel);
            exchange.endExchange();
            return;
        }
        new Chunks(exchange.getResponseSender(), channel, start, length).next(exchange);
    }

    /**
     * The first and last byte of a single range in a file of {@code size}; null when unsatisfiable.
     */
    private static long[] span(Matcher m, long size) {
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                return suffix == 0 || size == 0
                        ? null
                        : new long[] {Math.max(0, size - suffix), size - 1};
            }
            long first = Long.parseLong(m.group(1));
            long last =
                    m.group(2).isEmpty()
                            ? size - 1
                            : Math.min(Long.parseLong(m.group(2)), size - 1);
            return first >= size || last < first ? null : new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Read-only; nothing is lost.
        }
    }

    /**
     * One response's remaining bytes, sent a chunk at a time; owned by whichever thread runs the
     * callback.
     */
    private static final class Chunks implements IoCallback {
        private final Sender sender;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
        private long position;
        private long remaining;

        Chunks(Sender sender, FileChannel channel, long start, long length) {
            this.sender = sender;
            this.channel = channel;
            this.position = start;
            this.remaining = length;
        }

        void next(HttpServerExchange exchange) {
            if (remaining == 0) {
                close(channel);
                sender.close(IoCallback.END_EXCHANGE);
                return;
            }
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), remaining));
            try {
                while (buffer.hasRemaining()) {
                    int n = channel.read(buffer, position + buffer.position());
                    if (n < 0) {
                        throw new IOException("the file ended early");
                    }
                }
            } catch (IOException e) {
                onException(exchange, sender, e);
                return;
            }
            buffer.flip();
            position += buffer.remaining();
            remaining -= buffer.remaining();
            sender.send(buffer, this);
        }

        @Override
        public void onComplete(HttpServerExchange exchange, Sender sender) {
            next(exchange);
        }

        @Override
        public void onException(HttpServerExchange exchange, Sender sender, IOException exception) {
            close(channel);
            IoCallback.END_EXCHANGE.onException(exchange, sender, exception);
        }
    }
}
