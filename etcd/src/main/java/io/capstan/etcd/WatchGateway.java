package io.capstan.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;

/**
 * {@code POST /v3/watch}, etcd's JSON gateway for Watch: the body is one {@code WatchRequest} in
 * protobuf's JSON mapping holding a {@code create_request}; the answer is a 200 whose body streams
 * the {@link WatchStream}'s responses, one {@code {"result": WatchResponse}} JSON object per line,
 * as grpc-gateway frames stream messages, until the client disconnects. A body that is not such a
 * request is 400 with grpc-gateway's error shape and code 3. A member that stops ends the body with
 * grpc-gateway's error line for {@code etcdserver: server stopped} and then resets it ({@link
 * GatewayStream#fail}), so no client takes it for a complete answer.
 *
 * <p><b>Threads.</b> The body is read on the I/O thread, the stream is opened on the API executor,
 * and responses arrive on whatever thread the stream sends from. They are written by a {@link
 * GatewayStream}, whose bounded queue reports not ready when full, so events wait for the client as
 * they do on gRPC. Immutable; one instance serves every request.
 */
final class WatchGateway implements HttpHandler {

    // Immutable and thread-safe.
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    private final WatchStream.Watches watches;
    private final RaftCalls raft;
    private final Executor executor;
    private final OpenStreams streams;

    WatchGateway(
            WatchStream.Watches watches, RaftCalls raft, Executor executor, OpenStreams streams) {
        this.watches = watches;
        this.raft = raft;
        this.executor = executor;
        this.streams = streams;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        GatewayHandler.onApiExecutor(exchange, executor, (ex, context, body) -> open(ex, body));
    }

    /** Runs on the API executor. */
    private void open(HttpServerExchange exchange, byte[] body) {
        WatchRequest request;
        try {
            WatchRequest.Builder builder = WatchRequest.newBuilder();
            PARSER.merge(new String(body, StandardCharsets.UTF_8), builder);
            request = builder.build();
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            GatewayHandler.fail(
                    exchange,
                    EtcdErrors.badJson(
                            "request body is not a valid etcdserverpb.WatchRequest in JSON: "
                                    + e.getMessage()));
            return;
        }
        if (!request.hasCreateRequest()) {
            GatewayHandler.fail(
                    exchange,
                    EtcdErrors.badJson("a watch over the gateway starts with a create_request"));
            return;
        }
        GatewayStream lines = new GatewayStream(exchange, executor);
        // One create per request, so the stream never holds more than one watch.
        WatchStream stream =
                WatchStream.open(
                        watches,
                        raft,
                        new WatchStream.Outbound() {
                            @Override
                            public boolean isReady() {
                                return lines.isReady();
                            }

                            @Override
                            public void send(WatchResponse response) {
                                lines.send(response);
                            }

                            @Override
                            public void fail(EtcdError error) {
                                lines.fail(error);
                            }
                        },
                        1,
                        streams);
        lines.start(
                new GatewayStream.Producer() {
                    @Override
                    public void ready() {
                        stream.ready();
                    }

                    @Override
                    public void closed() {
                        stream.close();
                    }
                });
        stream.create(request.getCreateRequest());
    }
}
