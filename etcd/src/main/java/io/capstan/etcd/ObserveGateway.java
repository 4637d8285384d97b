package io.capstan.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.capstan.etcd.api.election.LeaderRequest;
import io.capstan.etcd.api.election.LeaderResponse;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;

/**
 * {@code POST /v3/election/observe}, etcd's JSON gateway for Observe: the body is one {@code
 * LeaderRequest} in protobuf's JSON mapping; the answer is a 200 whose body streams the {@link
 * LeaderObserver}'s responses, one {@code {"result": LeaderResponse}} JSON object per line, as
 * grpc-gateway frames stream messages, until the client disconnects or the stream fails (then with
 * grpc-gateway's error line; when the member stops, followed by a reset: see {@link
 * GatewayStream#fail}). A body that is not such a request is 400 with grpc-gateway's error shape
 * and code 3.
 *
 * <p><b>Threads.</b> The body is read on the I/O thread, the observer is started on the API
 * executor, and responses arrive on whatever thread it sends from. They are written by a {@link
 * GatewayStream}, whose bounded queue reports not ready when full, so values wait for the client as
 * they do on gRPC. Immutable; one instance serves every request.
 */
final class ObserveGateway implements HttpHandler {

    // Immutable and thread-safe.
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    private final ElectionOperations elections;
    private final Executor executor;

    ObserveGateway(ElectionOperations elections, Executor executor) {
        this.elections = elections;
        this.executor = executor;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        GatewayHandler.onApiExecutor(exchange, executor, (ex, context, body) -> open(ex, body));
    }

    /** Runs on the API executor. */
    private void open(HttpServerExchange exchange, byte[] body) {
        LeaderRequest.Builder request = LeaderRequest.newBuilder();
        try {
            String json = new String(body, StandardCharsets.UTF_8);
            if (!json.isBlank()) {
                PARSER.merge(json, request);
            }
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            GatewayHandler.fail(
                    exchange,
                    EtcdErrors.badJson(
                            "request body is not a valid v3electionpb.LeaderRequest in JSON: "
                                    + e.getMessage()));
            return;
        }
        GatewayStream lines = new GatewayStream(exchange, executor);
        LeaderObserver observer =
                elections.observer(
                        request.build(),
                        new LeaderObserver.Outbound() {
                            @Override
                            public boolean isReady() {
                                return lines.isReady();
                            }

                            @Override
                            public void send(LeaderResponse response) {
                                lines.send(response);
                            }

                            @Override
                            public void fail(EtcdError error) {
                                lines.fail(error);
                            }
                        });
        lines.start(
                new GatewayStream.Producer() {
                    @Override
                    public void ready() {
                        observer.ready();
                    }

                    @Override
                    public void closed() {
                        observer.close();
                    }
                });
        observer.start();
    }
}
