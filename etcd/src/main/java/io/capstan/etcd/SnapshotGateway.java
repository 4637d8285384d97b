package io.capstan.etcd;

import io.capstan.etcd.api.SnapshotResponse;
import io.capstan.raft.SnapshotExport;
import io.capstan.web.RequestContext;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * {@code POST /v3/maintenance/snapshot}, etcd's JSON gateway for Maintenance.Snapshot: the body is
 * an (empty) {@code SnapshotRequest}; the answer streams {@link SnapshotSender}'s messages through
 * a {@link GatewayStream}, one {@code {"result": SnapshotResponse}} line each (blobs in base64),
 * and ends after the checksum. A snapshot that cannot be taken is answered like a unary call's
 * failure; one that fails while streaming ends with grpc-gateway's error line.
 *
 * <p>Threads: the body is read on the I/O thread, the snapshot is taken and sent from the API
 * executor (see {@link SnapshotSender}). Immutable; one instance serves every request.
 */
final class SnapshotGateway implements HttpHandler {

    private final Supplier<CompletableFuture<SnapshotExport>> snapshots;
    private final RaftCalls raft;
    private final Executor executor;
    private final OpenStreams streams;

    SnapshotGateway(
            Supplier<CompletableFuture<SnapshotExport>> snapshots,
            RaftCalls raft,
            Executor executor,
            OpenStreams streams) {
        this.snapshots = snapshots;
        this.raft = raft;
        this.executor = executor;
        this.streams = streams;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        // The request has no fields; its body is read only to be done with it.
        GatewayHandler.onApiExecutor(exchange, executor, (ex, context, body) -> open(ex, context));
    }

    /** Runs on the API executor. */
    private void open(HttpServerExchange exchange, RequestContext context) {
        snapshots
                .get()
                .whenComplete(
                        (export, error) ->
                                context.run(
                                        () -> {
                                            if (error != null) {
                                                GatewayHandler.fail(exchange, EtcdErrors.of(error));
                                                return;
                                            }
                                            GatewayStream lines =
                                                    new GatewayStream(exchange, executor);
                                            SnapshotSender sender =
                                                    new SnapshotSender(
                                                            raft,
                                                            new SnapshotSender.Outbound() {
                                                                @Override
                                                                public boolean isReady() {
                                                                    return lines.isReady();
                                                                }

                                                                @Override
                                                                public void send(
                                                                        SnapshotResponse response) {
                                                                    lines.send(response);
                                                                }

                                                                @Override
                                                                public void complete() {
                                                                    lines.finish();
                                                                }

                                                                @Override
                                                                public void fail(
                                                                        EtcdError failure) {
                                                                    lines.fail(failure);
                                                                }
                                                            },
                                                            executor,
                                                            streams);
                                            lines.start(
                                                    new GatewayStream.Producer() {
                                                        @Override
                                                        public void ready() {
                                                            sender.ready();
                                                        }

                                                        @Override
                                                        public void closed() {
                                                            sender.cancel();
                                                        }
                                                    });
                                            sender.start(CompletableFuture.completedFuture(export));
                                        }));
    }
}
