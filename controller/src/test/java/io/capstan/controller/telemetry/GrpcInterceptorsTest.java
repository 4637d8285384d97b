package io.capstan.controller.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.web.RequestContext;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/**
 * The gRPC interceptors on a real server (loopback, ephemeral port) with a tiny service: the
 * request id reaches the call's code through the MDC and goes back in the headers; each call is
 * counted once by service, method and status code.
 */
@Timeout(60)
class GrpcInterceptorsTest {
    private static final MethodDescriptor.Marshaller<String> TEXT =
            new MethodDescriptor.Marshaller<>() {
                @Override
                public InputStream stream(String value) {
                    return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
                }

                @Override
                public String parse(InputStream stream) {
                    try {
                        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
            };
    private static final MethodDescriptor<String, String> ECHO =
            method("Echo", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<String, String> HANG =
            method("Hang", MethodDescriptor.MethodType.SERVER_STREAMING);

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final BlockingQueue<String> seenIds = new LinkedBlockingQueue<>();
    private final CountDownLatch hanging = new CountDownLatch(1);
    private Server server;
    private ManagedChannel channel;

    private static MethodDescriptor<String, String> method(
            String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Probe", name))
                .setRequestMarshaller(TEXT)
                .setResponseMarshaller(TEXT)
                .build();
    }

    @BeforeEach
    void start() throws Exception {
        ServerServiceDefinition probe =
                ServerServiceDefinition.builder("test.Probe")
                        .addMethod(
                                ECHO,
                                ServerCalls.asyncUnaryCall(
                                        (request, response) -> {
                                            seenIds.add(
                                                    String.valueOf(
                                                            MDC.get(RequestContext.MDC_KEY)));
                                            if (request.equals("fail")) {
                                                response.onError(
                                                        Status.INVALID_ARGUMENT
                                                                .withDescription("no")
                                                                .asRuntimeException());
                                                return;
                                            }
                                            response.onNext(request);
                                            response.onCompleted();
                                        }))
                        .addMethod(
                                HANG,
                                ServerCalls.asyncServerStreamingCall(
                                        (request, response) -> {
                                            // Never answers: the client gives up.
                                            hanging.countDown();
                                        }))
                        .build();
        server =
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        .addService(
                                ServerInterceptors.intercept(
                                        probe, new GrpcMetrics(registry), new GrpcRequestIds()))
                        .build()
                        .start();
        channel =
                NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                        .usePlaintext()
                        .build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    /**
     * Calls Echo with {@code id} as x-request-id (none when null); returns the id the answer
     * carried.
     */
    private String echo(String id, String body) {
        Metadata headers = new Metadata();
        if (id != null) {
            headers.put(GrpcRequestIds.HEADER, id);
        }
        AtomicReference<Metadata> answered = new AtomicReference<>();
        try {
            ClientCalls.blockingUnaryCall(
                    ClientInterceptors.intercept(
                            channel,
                            MetadataUtils.newAttachHeadersInterceptor(headers),
                            MetadataUtils.newCaptureMetadataInterceptor(
                                    answered, new AtomicReference<>())),
                    ECHO,
                    CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                    body);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.INVALID_ARGUMENT) {
                throw e;
            }
        }
        return answered.get() == null ? null : answered.get().get(GrpcRequestIds.HEADER);
    }

    private double count(String method, String code) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        String prefix =
                "capstan_grpc_server_handling_seconds_count{code=\""
                        + code
                        + "\",method=\""
                        + method
                        + "\",service=\"test.Probe\"} ";
        return out.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(line -> line.startsWith(prefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(prefix.length())))
                .sum();
    }

    @Test
    void theCallersRequestIdIsInTheLogContextAndSentBack() throws Exception {
        assertEquals("grpc-req-1", echo("grpc-req-1", "hi"));
        assertEquals("grpc-req-1", seenIds.poll(10, TimeUnit.SECONDS));
    }

    @Test
    void aCallWithoutAValidIdGetsAFreshOne() throws Exception {
        String fresh = echo(null, "hi");
        assertEquals(fresh, seenIds.poll(10, TimeUnit.SECONDS));
        assertEquals(36, fresh.length(), "a UUID: " + fresh);

        String replaced = echo("x".repeat(200), "hi");
        assertEquals(replaced, seenIds.poll(10, TimeUnit.SECONDS));
        assertNotEquals("x".repeat(200), replaced);
        assertNotEquals(fresh, replaced);
    }

    @Test
    void callsAreCountedByMethodAndStatusCode() throws Exception {
        echo("a", "hi");
        echo("b", "hi");
        echo("c", "fail");
        assertEquals(2, count("Echo", "OK"));
        assertEquals(1, count("Echo", "INVALID_ARGUMENT"));
    }

    @Test
    void aCallTheClientAbandonsIsCountedOnceAsCancelled() throws Exception {
        ClientCall<String, String> call = channel.newCall(HANG, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {}, new Metadata());
        call.sendMessage("wait");
        call.halfClose();
        call.request(1);
        assertTrue(hanging.await(10, TimeUnit.SECONDS), "the server took the call");
        call.cancel("the client gives up", null);
        Awaitility.await()
                .atMost(10, TimeUnit.SECONDS)
                .until(() -> count("Hang", "CANCELLED") == 1);
        assertEquals(1, count("Hang", "CANCELLED"));
        assertEquals(0, count("Hang", "OK"));
    }
}
