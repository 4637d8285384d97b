package io.capstan.controller.admin;

import io.capstan.raft.NodeStatus;
import io.capstan.raft.SnapshotExport;
import io.capstan.web.JsonResponses;
import io.capstan.web.RequestContext;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/snapshot}: streams a consistent backup of this member's whole state, the export
 * etcd's Maintenance.Snapshot streams (see {@link SnapshotExport}), in etcd's file layout: the
 * export's bytes, then the 32-byte SHA-256 of those bytes. {@code capstan snapshot save} and {@code
 * etcdctl snapshot save} write the same file.
 *
 * <p>The checksum is in the body, not a header: a header goes out before the body, and the export
 * can be read once only, so a header would mean reading the snapshot twice or spooling a copy;
 * trailers are not read by most HTTP clients (the JDK's among them). A client checks the last 32
 * bytes against the rest; {@code X-Capstan-Snapshot-Checksum} names the layout. The length is known
 * up front ({@code Content-Length}), so a cut-short transfer is visible too; the revision and log
 * index come in headers.
 *
 * <p><b>Limits and threads.</b> At most {@value #MAX_STREAMS} exports stream at once (each holds a
 * worker thread and the snapshot file open); more get 503 with {@code Retry-After}. Taking the
 * snapshot runs on Raft's threads; the stream is written with blocking writes on an Undertow worker
 * thread a chunk at a time ({@link SnapshotExport#writeBackup}), so memory stays bounded. Holds
 * only the permits; thread-safe.
 */
final class SnapshotDownloadHandler implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotDownloadHandler.class);

    static final int MAX_STREAMS = 2;
    static final int CHECKSUM_BYTES = 32;
    static final String CHECKSUM_HEADER = "X-Capstan-Snapshot-Checksum";

    /**
     * The layout {@link #CHECKSUM_HEADER} names: the body ends with the SHA-256 of what precedes
     * it.
     */
    static final String CHECKSUM_LAYOUT = "sha256-trailing-32-bytes";

    static final String REVISION_HEADER = "X-Capstan-Snapshot-Revision";
    static final String INDEX_HEADER = "X-Capstan-Snapshot-Index";

    private final Supplier<CompletableFuture<SnapshotExport>> exports;
    private final Supplier<NodeStatus> status;
    private final Semaphore streams = new Semaphore(MAX_STREAMS);

    SnapshotDownloadHandler(
            Supplier<CompletableFuture<SnapshotExport>> exports, Supplier<NodeStatus> status) {
        this.exports = exports;
        this.status = status;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (!streams.tryAcquire()) {
            exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "5");
            JsonResponses.sendError(
                    exchange,
                    503,
                    "too_many_snapshots",
                    "at most " + MAX_STREAMS + " snapshots stream at once; retry later");
            return;
        }
        RequestContext context = RequestContext.of(exchange);
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () -> {
                    CompletableFuture<SnapshotExport> opening;
                    try {
                        opening = exports.get();
                    } catch (RuntimeException e) {
                        opening = CompletableFuture.failedFuture(e);
                    }
                    opening.whenComplete(
                            (export, error) -> {
                                try {
                                    exchange.getConnection()
                                            .getWorker()
                                            .execute(
                                                    context.wrap(
                                                            () -> finish(exchange, export, error)));
                                } catch (RejectedExecutionException e) {
                                    close(export);
                                    streams.release();
                                    context.run(
                                            () ->
                                                    EndpointHandler.fail(
                                                            exchange,
                                                            AdminErrors.of(e, status.get())));
                                }
                            });
                });
    }

    /** Runs on a worker thread. */
    private void finish(HttpServerExchange exchange, SnapshotExport export, Throwable error) {
        try {
            if (error != null) {
                EndpointHandler.fail(exchange, AdminErrors.of(error, status.get()));
            } else {
                stream(exchange, export);
            }
        } finally {
            streams.release();
        }
    }

    private void stream(HttpServerExchange exchange, SnapshotExport export) {
        String node = status.get().nodeId();
        Map.of(
                        Headers.CONTENT_TYPE,
                        "application/octet-stream",
                        Headers.CONTENT_LENGTH,
                        Long.toString(export.size() + CHECKSUM_BYTES),
                        Headers.CONTENT_DISPOSITION,
                        "attachment; filename=\"capstan-"
                                + node
                                + "-"
                                + export.logIndex()
                                + ".snap\"",
                        new HttpString(CHECKSUM_HEADER),
                        CHECKSUM_LAYOUT,
                        new HttpString(REVISION_HEADER),
                        Long.toString(export.revision()),
                        new HttpString(INDEX_HEADER),
                        Long.toString(export.logIndex()))
                .forEach((name, value) -> exchange.getResponseHeaders().put(name, value));
        exchange.setStatusCode(200);
        exchange.startBlocking();
        try (export;
                OutputStream out = exchange.getOutputStream()) {
            export.writeBackup(out);
            LOG.info(
                    "[{}] streamed snapshot at revision {} (log index {}, {} bytes)",
                    node,
                    export.revision(),
                    export.logIndex(),
                    export.size());
        } catch (IOException e) {
            // The client went away or the file failed: the body ends short of its length, which the
            // client sees.
            LOG.warn(
                    "[{}] streaming the snapshot at log index {} failed: {}",
                    node,
                    export.logIndex(),
                    e.toString());
            exchange.setPersistent(false);
        } finally {
            exchange.endExchange();
        }
    }

    private static void close(SnapshotExport export) {
        if (export != null) {
            try {
                export.close();
            } catch (IOException e) {
                LOG.debug("closing a snapshot export: {}", e.toString());
            }
        }
    }
}
