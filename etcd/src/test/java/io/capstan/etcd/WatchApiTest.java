package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.WatchCancelRequest;
import io.capstan.etcd.api.WatchCreateRequest;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchProgressRequest;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * etcd's Watch over gRPC against one member on an in-memory keyspace (watches on a Raft group:
 * {@link WatchFailoverTest}), with jetcd as the oracle where it exposes the behaviour and a plain
 * gRPC stream where the exact responses matter (ids, filters, cancel, progress). Each test keeps to
 * keys of its own.
 */
@ExtendWith(EtcdClusterExtension.class)
@EtcdClusterExtension.Shape(local = true)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WatchApiTest {

    private static final long WAIT_SECONDS = 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();

    @Test
    void keyAndPrefixWatchesSeePutsAndDeletesInOrder(EtcdCluster cluster) throws Exception {
        Client client = cluster.jetcd(cluster.awaitLeader());
        Events key = new Events();
        Events prefix = new Events();
        try (Watch.Watcher w1 =
                        client.getWatchClient()
                                .watch(bytes("order/a"), notified().build(), key.listener());
                Watch.Watcher w2 =
                        client.getWatchClient()
                                .watch(
                                        bytes("order/"),
                                        notified().isPrefix(true).build(),
                                        prefix.listener())) {
            key.awaitCreated();
            prefix.awaitCreated();
            long first = put(client, "order/a", "1");
            put(client, "order/b", "2");
            delete(client, "order/a");

            List<String> onKey = key.take(2);
            assertEquals(List.of("PUT order/a=1", "DELETE order/a="), onKey);
            List<String> onPrefix = prefix.take(3);
            assertEquals(List.of("PUT order/a=1", "PUT order/b=2", "DELETE order/a="), onPrefix);
            assertEquals(List.of(first, first + 1, first + 2), prefix.revisions);
        }
    }

    @Test
    void startRevisionReplaysHistoryWithPreviousValues(EtcdCluster cluster) throws Exception {
        Client client = cluster.jetcd(cluster.awaitLeader());
        long first = put(client, "replay/k", "v1");
        put(client, "replay/k", "v2");
        delete(client, "replay/k");

        Events events = new Events();
        WatchOption option = WatchOption.builder().withRevision(first).withPrevKV(true).build();
        try (Watch.Watcher w =
                client.getWatchClient().watch(bytes("replay/k"), option, events.listener())) {
            assertEquals(
                    List.of("PUT replay/k=v1", "PUT replay/k=v2", "DELETE replay/k="),
                    events.take(3));
            assertEquals(List.of("", "v1", "v2"), events.prevValues.subList(0, 3));
            assertEquals(List.of(first, first + 1, first + 2), events.revisions.subList(0, 3));
        }
    }

    /** etcd reports a revision's events in the order its changes were made, live and replayed. */
    @Test
    void aTransactionsEventsComeInTheOrderItsOperationsRan(EtcdCluster cluster) throws Exception {
        Client client = cluster.jetcd(cluster.awaitLeader());
        long before = put(client, "txnorder/b", "0");
        put(client, "txnorder/d", "0");
        Events live = new Events();
        try (Watch.Watcher w =
                client.getWatchClient()
                        .watch(
                                bytes("txnorder/"),
                                notified().isPrefix(true).build(),
                                live.listener())) {
            live.awaitCreated();
            client.getKVClient()
                    .txn()
                    .Then(
                            Op.put(bytes("txnorder/z"), bytes("1"), PutOption.DEFAULT),
                            Op.delete(
                                    bytes("txnorder/b"),
                                    DeleteOption.builder().withRange(bytes("txnorder/e")).build()),
                            Op.put(bytes("txnorder/a"), bytes("1"), PutOption.DEFAULT))
                    .commit()
                    .get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<String> expected =
                    List.of(
                            "PUT txnorder/z=1",
                            "DELETE txnorder/b=",
                            "DELETE txnorder/d=",
                            "PUT txnorder/a=1");
            assertEquals(expected, live.take(4));

            Events replayed = new Events();
            try (Watch.Watcher again =
                    client.getWatchClient()
                            .watch(
                                    bytes("txnorder/"),
                                    WatchOption.builder()
                                            .isPrefix(true)
                                            .withRevision(before + 2)
                                            .build(),
                                    replayed.listener())) {
                assertEquals(expected, replayed.take(4));
            }
        }
    }

    @Test
    void compactedStartRevisionCancelsWithTheCompactRevision(EtcdCluster cluster) throws Exception {
        Client client = cluster.jetcd(cluster.awaitLeader());
        long old = put(client, "compacted/k", "v1");
        long latest = put(client, "compacted/k", "v2");
        client.getKVClient().compact(latest).get(WAIT_SECONDS, TimeUnit.SECONDS);

        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Watch.Listener listener = Watch.listener(r -> {}, failure::complete);
        try (Watch.Watcher w =
                client.getWatchClient()
                        .watch(
                                bytes("compacted/k"),
                                WatchOption.builder().withRevision(old).build(),
                                listener)) {
            Throwable error = failure.get(WAIT_SECONDS, TimeUnit.SECONDS);
            CompactedException compacted = assertInstanceOf(CompactedException.class, error);
            assertEquals(latest, compacted.getCompactedRevision());
        }
    }

    @Test
    void filtersDropTheEventTypesTheyName(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        Stream stream = new Stream(cluster, leader);
        stream.send(create("filter/k", 0).addFilters(WatchCreateRequest.FilterType.NOPUT));
        stream.send(create("filter/k", 0).addFilters(WatchCreateRequest.FilterType.NODELETE));
        WatchResponse noPut = stream.next();
        WatchResponse noDelete = stream.next();
        assertTrue(noPut.getCreated() && noDelete.getCreated());
        assertEquals(0, noPut.getWatchId(), "the server picks ids from 0 up, as etcd");
        assertEquals(1, noDelete.getWatchId());

        Client client = cluster.jetcd(leader);
        long putRevision = put(client, "filter/k", "v");
        long deleteRevision = delete(client, "filter/k");

        WatchResponse a = stream.next();
        WatchResponse b = stream.next();
        WatchResponse deletes = a.getWatchId() == 0 ? a : b;
        WatchResponse puts = a.getWatchId() == 0 ? b : a;
        assertEquals(1, deletes.getEventsCount());
        assertEquals(
                io.capstan.etcd.api.mvcc.Event.EventType.DELETE, deletes.getEvents(0).getType());
        assertEquals(deleteRevision, deletes.getHeader().getRevision());
        assertEquals(1, puts.getEventsCount());
        assertEquals(io.capstan.etcd.api.mvcc.Event.EventType.PUT, puts.getEvents(0).getType());
        assertEquals(putRevision, puts.getEvents(0).getKv().getModRevision());
        stream.close();
    }

    @Test
    void clientChosenIdsDuplicatesAndCancel(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        Stream stream = new Stream(cluster, leader);
        stream.send(create("cancel/k", 7));
        WatchResponse created = stream.next();
        assertTrue(created.getCreated());
        assertEquals(7, created.getWatchId());
        assertTrue(created.getHeader().getRevision() > 0);

        stream.send(create("cancel/other", 7));
        WatchResponse duplicate = stream.next();
        assertTrue(duplicate.getCreated() && duplicate.getCanceled());
        assertEquals(WatchStream.ALL_WATCHES, duplicate.getWatchId());
        assertEquals(WatchStream.DUPLICATE_ID, duplicate.getCancelReason());

        stream.requests.onNext(
                WatchRequest.newBuilder()
                        .setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(7))
                        .build());
        WatchResponse canceled = stream.next();
        assertTrue(canceled.getCanceled());
        assertEquals(7, canceled.getWatchId());

        put(cluster.jetcd(leader), "cancel/k", "after");
        stream.send(create("cancel/k", 7));
        WatchResponse again = stream.next();
        assertTrue(again.getCreated() && !again.getCanceled(), "a canceled id is free again");
        assertNull(stream.responses.poll(), "nothing arrives for the canceled watch");
        stream.close();
    }

    @Test
    void progressRequestAnswersForEveryWatchWithIdMinusOne(EtcdCluster cluster) throws Exception {
        int leader = cluster.awaitLeader();
        Stream stream = new Stream(cluster, leader);
        stream.send(create("progress/k", 0));
        assertTrue(stream.next().getCreated());
        long written = put(cluster.jetcd(leader), "progress/k", "v");
        assertEquals(written, stream.next().getHeader().getRevision());

        stream.requests.onNext(
                WatchRequest.newBuilder()
                        .setProgressRequest(WatchProgressRequest.getDefaultInstance())
                        .build());
        WatchResponse progress = stream.next();
        assertEquals(WatchStream.ALL_WATCHES, progress.getWatchId());
        assertEquals(0, progress.getEventsCount());
        assertFalse(progress.getCreated() || progress.getCanceled());
        assertTrue(progress.getHeader().getRevision() >= written);
        stream.close();
    }

    @Test
    void refusedCreateIsCanceledWithTheReason(EtcdCluster cluster) throws Exception {
        Stream stream = new Stream(cluster, cluster.awaitLeader());
        stream.send(create("refused/k", 0).setStartRevision(-5));
        WatchResponse refused = stream.next();
        assertTrue(refused.getCreated() && refused.getCanceled());
        assertTrue(refused.getCancelReason().contains("start_revision"), refused.getCancelReason());
        stream.close();
    }

    /** etcd clients match create responses to their creates by order, refused ones included. */
    @Test
    void createsSentWithoutWaitingAreAnsweredInTheirOrder(EtcdCluster cluster) throws Exception {
        Stream stream = new Stream(cluster, cluster.awaitLeader());
        int pairs = EtcdCluster.LIMITS.maxWatchesPerStream();
        for (int i = 0; i < pairs; i++) {
            stream.send(create("inorder/k" + i, 0).setStartRevision(-1));
            stream.send(create("inorder/k" + i, 0));
        }
        for (int i = 0; i < pairs; i++) {
            WatchResponse refused = stream.next();
            assertTrue(
                    refused.getCreated() && refused.getCanceled(),
                    "create " + (2 * i) + ": " + refused);
            assertTrue(
                    refused.getCancelReason().contains("start_revision"),
                    refused.getCancelReason());
            assertTrue(refused.getHeader().getRevision() > 0, refused.toString());
            WatchResponse created = stream.next();
            assertTrue(
                    created.getCreated() && !created.getCanceled(),
                    "create " + (2 * i + 1) + ": " + created);
        }
        stream.close();
    }

    @Test
    void aStreamHoldsAtMostItsLimitOfWatches(EtcdCluster cluster) throws Exception {
        Stream stream = new Stream(cluster, cluster.awaitLeader());
        int limit = EtcdCluster.LIMITS.maxWatchesPerStream();
        for (int i = 0; i < limit; i++) {
            stream.send(create("limit/k" + i, 0));
            WatchResponse created = stream.next();
            assertTrue(created.getCreated() && !created.getCanceled(), created.toString());
        }
        stream.send(create("limit/over", 0));
        WatchResponse over = stream.next();
        assertTrue(over.getCreated() && over.getCanceled(), over.toString());
        assertEquals(WatchStream.ALL_WATCHES, over.getWatchId());
        assertTrue(
                over.getCancelReason()
                        .startsWith(
                                "etcdserver: too many watches on this stream: it holds "
                                        + limit
                                        + ", the limit (capstan.api.max-watches-per-stream)"),
                over.getCancelReason());

        stream.requests.onNext(
                WatchRequest.newBuilder()
                        .setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(3))
                        .build());
        assertTrue(stream.next().getCanceled());
        stream.send(create("limit/over", 0));
        WatchResponse admitted = stream.next();
        assertTrue(admitted.getCreated() && !admitted.getCanceled(), "a canceled watch makes room");
        assertEquals(limit, admitted.getWatchId(), "the refused create took no id");
        Stream other = new Stream(cluster, cluster.awaitLeader());
        other.send(create("limit/elsewhere", 0));
        assertFalse(other.next().getCanceled(), "the limit is per stream");
        other.close();
        stream.close();
    }

    @Test
    void gatewayStreamsTheCreatedResponseThenEventsAsJsonLines(EtcdCluster cluster)
            throws Exception {
        int leader = cluster.awaitLeader();
        InetSocketAddress web = cluster.webAddress(leader);
        String body = "{\"create_request\":{\"key\":\"" + b64("gw/watch/k") + "\"}}";
        HttpRequest request =
                HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + web.getPort() + "/v3/watch"))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
        HttpResponse<java.util.stream.Stream<String>> response =
                HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        try (java.util.stream.Stream<String> lines = response.body()) {
            Iterator<String> it = lines.iterator();
            JsonNode created = JSON.readTree(it.next()).get("result");
            assertTrue(created.get("created").asBoolean(), created.toString());
            long revision = put(cluster.jetcd(leader), "gw/watch/k", "hi");
            JsonNode event = JSON.readTree(it.next()).get("result");
            assertEquals(Long.toString(revision), event.get("header").get("revision").asText());
            JsonNode kv = event.get("events").get(0).get("kv");
            assertEquals(b64("gw/watch/k"), kv.get("key").asText());
            assertEquals(b64("hi"), kv.get("value").asText());
        }
    }

    @Test
    void gatewayRefusesABodyWithoutACreateRequest(EtcdCluster cluster) throws Exception {
        InetSocketAddress web = cluster.webAddress(cluster.awaitLeader());
        HttpRequest request =
                HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + web.getPort() + "/v3/watch"))
                        .POST(
                                HttpRequest.BodyPublishers.ofString(
                                        "{\"cancel_request\":{\"watch_id\":\"1\"}}"))
                        .build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(400, response.statusCode());
        assertEquals(3, JSON.readTree(response.body()).get("code").asInt(), response.body());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Watch options that ask for the created response, so a test knows when the watch is in place.
     */
    static WatchOption.Builder notified() {
        return WatchOption.builder().withCreateNotify(true);
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static long put(Client client, String key, String value) throws Exception {
        return client.getKVClient()
                .put(bytes(key), bytes(value))
                .get(WAIT_SECONDS, TimeUnit.SECONDS)
                .getHeader()
                .getRevision();
    }

    static long delete(Client client, String key) throws Exception {
        return client.getKVClient()
                .delete(bytes(key))
                .get(WAIT_SECONDS, TimeUnit.SECONDS)
                .getHeader()
                .getRevision();
    }

    static WatchCreateRequest.Builder create(String key, long id) {
        return WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setWatchId(id);
    }

    /**
     * What a jetcd watcher reported, as "TYPE key=value" strings; the queue is the synchronisation.
     */
    static final class Events {
        private final BlockingQueue<WatchEvent> queue = new LinkedBlockingQueue<>();
        final List<Long> revisions = new ArrayList<>();
        final List<String> prevValues = new ArrayList<>();
        final CompletableFuture<Throwable> error = new CompletableFuture<>();
        private final CompletableFuture<Void> created = new CompletableFuture<>();

        Watch.Listener listener() {
            return Watch.listener(
                    r -> {
                        if (r.isCreatedNotify()) {
                            created.complete(null);
                        }
                        queue.addAll(r.getEvents());
                    },
                    error::complete);
        }

        /** Waits for the created response; only with {@link #notified()} options. */
        void awaitCreated() throws Exception {
            created.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(queue.isEmpty(), "no event comes before the created response");
        }

        List<String> take(int count) throws InterruptedException {
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                WatchEvent event = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertNotNull(
                        event,
                        "event "
                                + (i + 1)
                                + " of "
                                + count
                                + " never came; saw "
                                + seen
                                + (error.isDone() ? ", watch failed: " + error.join() : ""));
                revisions.add(event.getKeyValue().getModRevision());
                prevValues.add(event.getPrevKV().getValue().toString(StandardCharsets.UTF_8));
                seen.add(
                        event.getEventType()
                                + " "
                                + event.getKeyValue().getKey().toString(StandardCharsets.UTF_8)
                                + "="
                                + event.getKeyValue().getValue().toString(StandardCharsets.UTF_8));
            }
            return seen;
        }
    }

    /** A raw Watch call; responses queue up for the test thread. */
    static final class Stream {
        final BlockingQueue<WatchResponse> responses = new LinkedBlockingQueue<>();
        final StreamObserver<WatchRequest> requests;

        Stream(EtcdCluster cluster, int member) {
            requests =
                    WatchGrpc.newStub(cluster.channel(member))
                            .watch(
                                    new StreamObserver<>() {
                                        @Override
                                        public void onNext(WatchResponse value) {
                                            responses.add(value);
                                        }

                                        @Override
                                        public void onError(Throwable t) {}

                                        @Override
                                        public void onCompleted() {}
                                    });
        }

        void send(WatchCreateRequest.Builder create) {
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(create).build());
        }

        WatchResponse next() throws InterruptedException {
            WatchResponse response = responses.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(response, "no watch response came");
            return response;
        }

        void close() {
            requests.onError(new IllegalStateException("test done"));
        }
    }
}
