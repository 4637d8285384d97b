package io.capstan.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.RangeRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A member that was unreachable for a while and listens again is reached by the harness's next
 * calls, not only once gRPC's reconnect backoff has run out. Nothing listens for 19 s, long enough
 * for that backoff to space its attempts 6.5 to 10 s apart (its sixth attempt comes by 19 s at the
 * latest, its seventh after 21 s at the earliest); then a server listens, and a call must reach it
 * within 1.5 s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterChannelTest {
    private static final Duration DOWN = Duration.ofMillis(19_200);
    private static final Duration BACK_WITHIN = Duration.ofMillis(1500);

    @Test
    void aMemberListeningAgainIsReachedAtOnceNotAfterTheReconnectBackoff() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        ManagedChannel channel =
                NettyChannelBuilder.forAddress(MemberSlot.HOST, port).usePlaintext().build();
        Server server = null;
        try {
            channel.getState(true); // the first attempt, refused: the backoff starts
            Thread.sleep(DOWN.toMillis()); // gRPC alone keeps trying, ever further apart
            assertEquals(Status.Code.UNAVAILABLE, call(channel));

            server =
                    NettyServerBuilder.forAddress(new InetSocketAddress(MemberSlot.HOST, port))
                            .build()
                            .start();
            long deadline = System.nanoTime() + BACK_WITHIN.toNanos();
            Status.Code answer = call(Cluster.dialingNow(channel));
            while (answer == Status.Code.UNAVAILABLE && System.nanoTime() < deadline) {
                Thread.sleep(100);
                answer = call(Cluster.dialingNow(channel));
            }
            // The server has no services: an answer at all is UNIMPLEMENTED.
            assertEquals(Status.Code.UNIMPLEMENTED, answer, "no answer within " + BACK_WITHIN);
        } finally {
            channel.shutdownNow();
            if (server != null) {
                server.shutdownNow();
            }
        }
    }

    private static Status.Code call(ManagedChannel channel) {
        try {
            KVGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(1, TimeUnit.SECONDS)
                    .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }
}
