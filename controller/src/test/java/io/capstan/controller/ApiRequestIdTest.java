package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import io.capstan.controller.telemetry.GrpcRequestIds;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.web.RequestContext;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A gRPC call's request id stays in the log context when its outcome is handled on the API threads,
 * after Raft answered on a thread of its own: the member logs the failure of a write that found no
 * quorum with the caller's {@code x-request-id}.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ApiRequestIdTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir Path dir;

    @Test
    void aFailedWriteIsLoggedWithTheCallersRequestId() throws Exception {
        Logger errors = (Logger) LoggerFactory.getLogger("io.capstan.etcd.EtcdErrors");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        Level level = errors.getLevel();
        try (DaemonCluster cluster =
                DaemonCluster.start(dir, 3, "web", "capstan.raft.request-timeout = 1s")) {
            Daemon leader = cluster.awaitLeader(cluster.members(), WAIT);
            int alone = cluster.members().indexOf(leader);
            for (int i = 0; i < 3; i++) {
                if (i != alone) {
                    cluster.stop(i);
                }
            }
            errors.setLevel(Level.DEBUG);
            errors.addAppender(logged);

            Metadata headers = new Metadata();
            headers.put(GrpcRequestIds.HEADER, "no-quorum-put-1");
            ManagedChannel channel =
                    NettyChannelBuilder.forAddress("127.0.0.1", cluster.apiPort(alone))
                            .usePlaintext()
                            .build();
            try {
                KVGrpc.KVBlockingStub kv =
                        KVGrpc.newBlockingStub(channel)
                                .withInterceptors(
                                        MetadataUtils.newAttachHeadersInterceptor(headers))
                                .withDeadlineAfter(60, TimeUnit.SECONDS);
                assertThrows(
                        StatusRuntimeException.class,
                        () ->
                                kv.put(
                                        PutRequest.newBuilder()
                                                .setKey(ByteString.copyFromUtf8("k"))
                                                .setValue(ByteString.copyFromUtf8("v"))
                                                .build()));
            } finally {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
            List<ILoggingEvent> failures = List.copyOf(logged.list);
            assertTrue(
                    failures.stream()
                            .anyMatch(
                                    e ->
                                            e.getThreadName().startsWith("capstan-api-")
                                                    && "no-quorum-put-1"
                                                            .equals(
                                                                    e.getMDCPropertyMap()
                                                                            .get(
                                                                                    RequestContext
                                                                                            .MDC_KEY))),
                    "the failure was logged on an API thread with the request id: "
                            + failures.stream()
                                    .map(
                                            e ->
                                                    e.getThreadName()
                                                            + " "
                                                            + e.getMDCPropertyMap()
                                                            + " "
                                                            + e.getFormattedMessage())
                                    .toList());
        } finally {
            errors.detachAppender(logged);
            errors.setLevel(level);
        }
    }
}
