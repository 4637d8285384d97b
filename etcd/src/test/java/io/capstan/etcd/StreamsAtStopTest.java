package io.capstan.etcd;

import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.SnapshotRequest;
import io.capstan.etcd.api.SnapshotResponse;
import io.capstan.etcd.api.WatchCreateRequest;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.etcd.api.election.CampaignRequest;
import io.capstan.etcd.api.election.CampaignResponse;
import io.capstan.etcd.api.election.ElectionGrpc;
import io.capstan.etcd.api.election.LeaderRequest;
import io.capstan.etcd.api.election.LeaderResponse;
import io.capstan.etcd.api.lock.LockGrpc;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.LockResponse;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.options.GetOption;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a member that stops does to the calls that last until their client ends them: every one ends
 * with etcd's {@code etcdserver: server stopped} (UNAVAILABLE), which etcd clients answer by
 * reconnecting and resuming, never with a cancellation (final to them) nor a canceled watch; on the
 * JSON gateway the body ends with grpc-gateway's error line and then breaks off instead of ending
 * cleanly. Each test has a cluster of its own, since it stops part of a member.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StreamsAtStopTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
    private static final String STOPPED = "etcdserver: server stopped";

    @TempDir Path dir;

    @Test
    void stoppingTheApiEndsEveryStreamAndWaitWithServerStopped() throws Exception {
        try (EtcdCluster cluster = new EtcdCluster(dir, 3, 3, Duration.ofSeconds(3))) {
            int leader = cluster.awaitLeader();
            int member = cluster.follower();
            Client holder = cluster.jetcd(leader);
            KV kv = holder.getKVClient();
            // Enough state that a snapshot stalls in flow control until its client reads.
            String value = "x".repeat(30 * 1024);
            for (int i = 0; i < 80; i++) {
                get(kv.put(bytes("stop/large/" + i), bytes(value)));
            }
            long held = get(holder.getLeaseClient().grant(60)).getID();
            get(holder.getLockClient().lock(bytes("stop/lock"), held));
            get(holder.getElectionClient().campaign(bytes("stop/election"), held, bytes("leader")));

            Calls<WatchResponse> watch = new Calls<>();
            StreamObserver<WatchRequest> watchRequests =
                    WatchGrpc.newStub(cluster.channel(member)).watch(watch);
            watchRequests.onNext(
                    WatchRequest.newBuilder()
                            .setCreateRequest(
                                    WatchCreateRequest.newBuilder()
                                            .setKey(ByteString.copyFromUtf8("stop/w")))
                            .build());
            assertTrue(watch.next().getCreated());

            Calls<LeaseKeepAliveResponse> keepAlive = new Calls<>();
            LeaseGrpc.newStub(cluster.channel(member))
                    .leaseKeepAlive(keepAlive)
                    .onNext(LeaseKeepAliveRequest.newBuilder().setID(held).build());
            assertEquals(60, keepAlive.next().getTTL());

            Calls<LockResponse> lock = new Calls<>();
            LockGrpc.newStub(cluster.channel(member))
                    .lock(
                            LockRequest.newBuilder()
                                    .setName(ByteString.copyFromUtf8("stop/lock"))
                                    .setLease(get(holder.getLeaseClient().grant(60)).getID())
                                    .build(),
                            lock);
            Calls<CampaignResponse> campaign = new Calls<>();
            ElectionGrpc.newStub(cluster.channel(member))
                    .campaign(
                            CampaignRequest.newBuilder()
                                    .setName(ByteString.copyFromUtf8("stop/election"))
                                    .setLease(get(holder.getLeaseClient().grant(60)).getID())
                                    .setValue(ByteString.copyFromUtf8("waiting"))
                                    .build(),
                            campaign);
            Calls<LeaderResponse> observe = new Calls<>();
            ElectionGrpc.newStub(cluster.channel(member))
                    .observe(
                            LeaderRequest.newBuilder()
                                    .setName(ByteString.copyFromUtf8("stop/election"))
                                    .build(),
                            observe);
            assertEquals("leader", observe.next().getKv().getValue().toStringUtf8());
            // Both waits are queued: their keys follow the holder's.
            await().atMost(EtcdCluster.WAIT)
                    .until(() -> keys(kv, "stop/lock/") == 2 && keys(kv, "stop/election/") == 2);

            SnapshotCall snapshot = new SnapshotCall(cluster, member);
            InetSocketAddress web = cluster.webAddress(member);
            BufferedReader gatewayWatch =
                    lines(
                            web,
                            "/v3/watch",
                            "{\"create_request\":{\"key\":\"" + b64("stop/w") + "\"}}");
            assertTrue(
                    JSON.readTree(gatewayWatch.readLine())
                            .path("result")
                            .path("created")
                            .asBoolean());
            BufferedReader gatewayObserve =
                    lines(
                            web,
                            "/v3/election/observe",
                            "{\"name\":\"" + b64("stop/election") + "\"}");
            assertEquals(
                    b64("leader"),
                    JSON.readTree(gatewayObserve.readLine())
                            .path("result")
                            .path("kv")
                            .path("value")
                            .asText());
            long gatewayLease = get(holder.getLeaseClient().grant(60)).getID();
            CompletableFuture<HttpResponse<String>> gatewayLock =
                    HTTP.sendAsync(
                            post(
                                    web,
                                    "/v3/lock/lock",
                                    "{\"name\":\""
                                            + b64("stop/lock")
                                            + "\",\"lease\":\""
                                            + gatewayLease
                                            + "\"}"),
                            HttpResponse.BodyHandlers.ofString());
            await().atMost(EtcdCluster.WAIT).until(() -> keys(kv, "stop/lock/") == 3);

            CompletableFuture<Void> stopped =
                    CompletableFuture.runAsync(() -> cluster.stopApi(member));
            // The snapshot's end reaches its client once the client reads what was sent before it.
            snapshot.readAll();

            watch.assertStopped();
            keepAlive.assertStopped();
            lock.assertStopped();
            campaign.assertStopped();
            observe.assertStopped();
            snapshot.assertStopped();
            assertGatewayStreamBreaksOff(gatewayWatch);
            assertGatewayStreamBreaksOff(gatewayObserve);
            HttpResponse<String> lockReply = gatewayLock.get(30, TimeUnit.SECONDS);
            assertEquals(503, lockReply.statusCode(), lockReply.body());
            assertEquals(STOPPED, JSON.readTree(lockReply.body()).path("message").asText());
            stopped.get(30, TimeUnit.SECONDS);

            // The waits left their queues, as cancelled ones do; the holders are still first.
            await().atMost(EtcdCluster.WAIT)
                    .until(() -> keys(kv, "stop/lock/") == 1 && keys(kv, "stop/election/") == 1);
        }
    }

    @Test
    void aWatchTheStoppingRaftMemberEndsFailsItsStreamRatherThanBeingCanceled() throws Exception {
        try (EtcdCluster cluster = new EtcdCluster(dir, 3, 3, Duration.ofSeconds(3))) {
            int member = cluster.follower();
            Calls<WatchResponse> watch = new Calls<>();
            WatchGrpc.newStub(cluster.channel(member))
                    .watch(watch)
                    .onNext(
                            WatchRequest.newBuilder()
                                    .setCreateRequest(
                                            WatchCreateRequest.newBuilder()
                                                    .setKey(ByteString.copyFromUtf8("raft/w")))
                                    .build());
            assertTrue(watch.next().getCreated());
            BufferedReader gatewayWatch =
                    lines(
                            cluster.webAddress(member),
                            "/v3/watch",
                            "{\"create_request\":{\"key\":\"" + b64("raft/w") + "\"}}");
            assertTrue(
                    JSON.readTree(gatewayWatch.readLine())
                            .path("result")
                            .path("created")
                            .asBoolean());

            cluster.stopNode(member).get(30, TimeUnit.SECONDS);

            watch.assertStopped();
            assertGatewayStreamBreaksOff(gatewayWatch);
            // A watch asked of the stopped member fails its stream the same way.
            Calls<WatchResponse> late = new Calls<>();
            WatchGrpc.newStub(cluster.channel(member))
                    .watch(late)
                    .onNext(
                            WatchRequest.newBuilder()
                                    .setCreateRequest(
                                            WatchCreateRequest.newBuilder()
                                                    .setKey(ByteString.copyFromUtf8("raft/w")))
                                    .build());
            late.assertStopped();
        }
    }

    private static long keys(KV kv, String prefix) throws Exception {
        return get(kv.get(
                        bytes(prefix),
                        GetOption.builder().isPrefix(true).withCountOnly(true).build()))
                .getCount();
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static HttpRequest post(InetSocketAddress web, String path, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.getPort() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    /** A streamed gateway answer (HTTP/1.1, chunked), read line by line. */
    private static BufferedReader lines(InetSocketAddress web, String path, String body)
            throws Exception {
        HttpResponse<InputStream> response =
                HTTP.send(post(web, path, body), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        return new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    /**
     * grpc-gateway's error line for "server stopped", then a body that breaks off rather than ends.
     */
    private static void assertGatewayStreamBreaksOff(BufferedReader stream) throws IOException {
        JsonNode error = JSON.readTree(stream.readLine()).path("error");
        assertEquals(14, error.path("grpc_code").asInt(), error.toString());
        assertEquals(503, error.path("http_code").asInt(), error.toString());
        assertEquals(STOPPED, error.path("message").asText());
        assertThrows(
                IOException.class,
                () -> {
                    while (stream.readLine() != null) {
                        // A clean end of the body would leave this loop without an exception.
                    }
                },
                "the body must not end as a complete answer");
    }

    /** One gRPC call's responses, then how it ended; the queue is the synchronisation. */
    private static final class Calls<T> implements StreamObserver<T> {
        private final BlockingQueue<T> responses = new LinkedBlockingQueue<>();
        private final CompletableFuture<Status> end = new CompletableFuture<>();

        @Override
        public void onNext(T value) {
            responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            end.complete(Status.OK);
        }

        T next() throws InterruptedException {
            T response = responses.poll(30, TimeUnit.SECONDS);
            assertNotNull(response, "no response came");
            return response;
        }

        /**
         * The call ended with UNAVAILABLE "server stopped", and no watch was reported canceled
         * before.
         */
        void assertStopped() throws Exception {
            Status status;
            try {
                status = end.get(30, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("the call did not end; it got " + responses, e);
            }
            assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
            assertEquals(STOPPED, status.getDescription());
            for (T response : responses) {
                assertFalse(
                        response instanceof WatchResponse watch && watch.getCanceled(),
                        "a stopping member's watch looks canceled by the server: " + response);
            }
        }
    }

    /** A snapshot call that takes one message, then nothing until {@link #readAll}. */
    private static final class SnapshotCall {
        private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        private final ClientCall<SnapshotRequest, SnapshotResponse> call;

        SnapshotCall(EtcdCluster cluster, int member) throws InterruptedException {
            call =
                    cluster.channel(member)
                            .newCall(MaintenanceGrpc.getSnapshotMethod(), CallOptions.DEFAULT);
            call.start(
                    new ClientCall.Listener<>() {
                        @Override
                        public void onMessage(SnapshotResponse message) {
                            received.add(message);
                        }

                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            received.add(status);
                        }
                    },
                    new Metadata());
            call.sendMessage(SnapshotRequest.getDefaultInstance());
            call.halfClose();
            call.request(1);
            assertTrue(
                    received.poll(30, TimeUnit.SECONDS) instanceof SnapshotResponse,
                    "the first chunk");
        }

        void readAll() {
            call.request(Integer.MAX_VALUE);
        }

        void assertStopped() throws InterruptedException {
            while (true) {
                Object next = received.poll(30, TimeUnit.SECONDS);
                assertNotNull(next, "the snapshot call never ended");
                if (next instanceof Status status) {
                    assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
                    assertEquals(STOPPED, status.getDescription());
                    return;
                }
            }
        }
    }
}
