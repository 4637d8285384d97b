package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.ResponseHeader;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * jetcd's KV client, with its own generated classes and transport, talks to a server built from our
 * generated stubs on the shaded gRPC transport the daemon uses: what jetcd sends must decode into
 * our RangeRequest, and our RangeResponse must decode into what jetcd reports. Also proves the two
 * gRPC and protobuf stacks can share one test classpath.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JetcdKvRangeTest {

    private static final String KEY = "config/greeting";

    /** Filled by gRPC's transport thread, drained by the test thread. */
    private final BlockingQueue<RangeRequest> received = new LinkedBlockingQueue<>();

    private Server server;
    private Client client;

    @BeforeEach
    void start() throws IOException {
        server =
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        // The fixed answer never blocks, so it may run on the transport thread.
                        .directExecutor()
                        .addService(new FixedRange(received))
                        .build()
                        .start();
        client = Client.builder().endpoints("http://127.0.0.1:" + server.getPort()).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.shutdownNow();
            assertTrue(server.awaitTermination(10, TimeUnit.SECONDS), "server did not stop");
        }
    }

    @Test
    void jetcdGetReadsTheServersAnswer() throws Exception {
        GetResponse response = client.getKVClient().get(bytes(KEY)).get(20, TimeUnit.SECONDS);

        assertEquals(1, response.getKvs().size());
        io.etcd.jetcd.KeyValue kv = response.getKvs().get(0);
        assertEquals(KEY, kv.getKey().toString(StandardCharsets.UTF_8));
        assertEquals("hello", kv.getValue().toString(StandardCharsets.UTF_8));
        assertEquals(7, kv.getCreateRevision());
        assertEquals(40, kv.getModRevision());
        assertEquals(3, kv.getVersion());
        assertEquals(0x1234, kv.getLease());
        assertEquals(1, response.getCount());
        assertTrue(response.isMore());
        assertEquals(0xC1, response.getHeader().getClusterId());
        assertEquals(0xE1, response.getHeader().getMemberId());
        assertEquals(42, response.getHeader().getRevision());
        assertEquals(5, response.getHeader().getRaftTerm());

        RangeRequest request = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(request, "server saw no Range call");
        assertEquals(KEY, request.getKey().toStringUtf8());
        assertTrue(request.getRangeEnd().isEmpty(), "a plain get asks for one key");
        assertFalse(request.getSerializable());
    }

    @Test
    void jetcdGetOptionsArriveAsEtcdEncodesThem() throws Exception {
        GetOption options =
                GetOption.builder()
                        .isPrefix(true)
                        .withLimit(5)
                        .withRevision(39)
                        .withSortOrder(GetOption.SortOrder.DESCEND)
                        .withSortField(GetOption.SortTarget.MOD)
                        .withSerializable(true)
                        .withKeysOnly(true)
                        .withMinCreateRevision(2)
                        .withMaxModRevision(41)
                        .build();

        client.getKVClient().get(bytes("config/"), options).get(20, TimeUnit.SECONDS);

        RangeRequest request = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(request, "server saw no Range call");
        assertEquals("config/", request.getKey().toStringUtf8());
        // A prefix is the range up to the key with its last byte incremented.
        assertEquals("config0", request.getRangeEnd().toStringUtf8());
        assertEquals(5, request.getLimit());
        assertEquals(39, request.getRevision());
        assertEquals(RangeRequest.SortOrder.DESCEND, request.getSortOrder());
        assertEquals(RangeRequest.SortTarget.MOD, request.getSortTarget());
        assertTrue(request.getSerializable());
        assertTrue(request.getKeysOnly());
        assertFalse(request.getCountOnly());
        assertEquals(2, request.getMinCreateRevision());
        assertEquals(41, request.getMaxModRevision());
        assertEquals(0, request.getMinModRevision());
        assertEquals(0, request.getMaxCreateRevision());
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    /** Answers every Range with the same single key and records the request. */
    private static final class FixedRange extends KVGrpc.KVImplBase {

        private final BlockingQueue<RangeRequest> received;

        FixedRange(BlockingQueue<RangeRequest> received) {
            this.received = received;
        }

        @Override
        public void range(RangeRequest request, StreamObserver<RangeResponse> responses) {
            received.add(request);
            responses.onNext(
                    RangeResponse.newBuilder()
                            .setHeader(
                                    ResponseHeader.newBuilder()
                                            .setClusterId(0xC1)
                                            .setMemberId(0xE1)
                                            .setRevision(42)
                                            .setRaftTerm(5))
                            .addKvs(
                                    KeyValue.newBuilder()
                                            .setKey(ByteString.copyFromUtf8(KEY))
                                            .setValue(ByteString.copyFromUtf8("hello"))
                                            .setCreateRevision(7)
                                            .setModRevision(40)
                                            .setVersion(3)
                                            .setLease(0x1234))
                            .setCount(1)
                            .setMore(true)
                            .build());
            responses.onCompleted();
        }
    }
}
