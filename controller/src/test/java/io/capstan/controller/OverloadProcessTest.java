package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's burst, on real processes: 1,000 clients of etcd's JSON gateway and 1,000 of the gRPC
 * API, each sending linearizable ranges one after the other, at a follower and then at the leader
 * of a 3-member cluster, for a few seconds (longer, within a bound, until both kinds of client have
 * had an answer: the member keeps serving under the burst); then every client leaves at once,
 * requests in flight included (connections closed, calls cancelled), as a load generator that stops
 * does. Afterwards, within seconds, every member must be ready, take a write and answer a
 * linearizable read, and every admission budget of every member must be back to zero: Raft's peer
 * messages never waited behind the clients, and every permit came back. The figures of each run are
 * printed, never asserted: the clients may be refused (429, RESOURCE_EXHAUSTED) as the budgets say,
 * and how many are served depends on the machine.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class OverloadProcessTest {
    private static final int CLIENTS = 1000;
    private static final Duration LOAD = Duration.ofSeconds(5);

    /** The longest a burst may go on while a kind of client waits for its first answer. */
    private static final Duration MOST_LOAD = Duration.ofSeconds(30);

    private static final Duration START = Duration.ofSeconds(90);

    /** "Within a few seconds", with room for a busy 2-core machine. */
    private static final Duration RECOVERY = Duration.ofSeconds(20);

    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);

    /** How long one check after the burst may take before it is tried again. */
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(3);

    private static final String KEY = "overload";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    private final int[] webPorts = new int[3];
    private final int[] apiPorts = new int[3];
    private final DaemonProcess[] members = new DaemonProcess[3];
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aThousandGatewayAndAThousandGrpcClientsAtAFollowerAndAtTheLeaderLeaveEveryMemberServing()
            throws Exception {
        try {
            startCluster();
            // Each member takes a write and serves reads on both APIs first, as a member in service
            // has: the burst then meets connections that are open, not a cold member's first
            // requests.
            for (int i = 0; i < 3; i++) {
                int member = i;
                DaemonCluster.awaitTrue(
                        "n" + (i + 1) + " writing and reading",
                        START,
                        () -> writesAndReads(member, KEY));
            }
            int leader = leader();
            int follower = (leader + 1) % 3;
            for (int target : new int[] {follower, leader}) {
                String role = target == leader ? "leader" : "follower";
                long term = term();
                long began = System.nanoTime();
                Map<String, Long> outcomes = overload(target);
                System.out.printf(
                        "%d gateway + %d gRPC clients for %.1f s at the %s n%d: %s (Raft term %d, then %d)%n",
                        CLIENTS,
                        CLIENTS,
                        (System.nanoTime() - began) / 1e9,
                        role,
                        target + 1,
                        outcomes,
                        term,
                        term());
                long left = System.nanoTime();
                assertEveryMemberServes(role);
                System.out.printf(
                        "after the %s's load: every member ready, writing and reading, budgets at zero"
                                + " %.1f s after the clients left%n",
                        role, (System.nanoTime() - left) / 1e9);
            }
        } finally {
            for (DaemonProcess member : members) {
                if (member != null) {
                    member.close();
                }
            }
        }
    }

    private void startCluster() throws Exception {
        Path secret = dir.resolve("cluster.secret");
        Files.writeString(secret, "overload-process-test-secret-0123456789");
        for (int i = 0; i < 3; i++) {
            webPorts[i] = DaemonProcess.freePort();
            apiPorts[i] = DaemonProcess.freePort();
        }
        String peers =
                IntStream.range(0, 3)
                        .mapToObj(i -> "\"n" + (i + 1) + "=127.0.0.1:" + webPorts[i] + "\"")
                        .collect(Collectors.joining(", "));
        for (int i = 0; i < 3; i++) {
            Path conf = dir.resolve("n" + (i + 1) + ".conf");
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "capstan.node { id = \"n"
                                    + (i + 1)
                                    + "\", data-dir = \""
                                    + dir.resolve("n" + (i + 1))
                                    + "\" }",
                            "capstan.web.port = " + webPorts[i],
                            "capstan.api.port = " + apiPorts[i],
                            "capstan.raft { peers = ["
                                    + peers
                                    + "], secret-file = \""
                                    + secret
                                    + "\" }"));
            members[i] = DaemonProcess.start(dir, Map.of(), "serve", "--config", conf.toString());
        }
        for (int i = 0; i < 3; i++) {
            assertTrue(
                    members[i].awaitHttpStatus(url(i, "/health/ready"), 200, START),
                    "n" + (i + 1) + " never became ready:\n" + members[i].stderr());
        }
    }

    /**
     * Runs both kinds of clients at member {@code target} for {@link #LOAD}, and on until each kind
     * has had an answer (at most {@link #MOST_LOAD}), then drops them all; their outcomes.
     */
    private Map<String, Long> overload(int target) throws Exception {
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        AtomicBoolean stopped = new AtomicBoolean();
        ExecutorService clientThreads = Executors.newFixedThreadPool(4);
        HttpClient gatewayClient =
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(CLIENT_TIMEOUT)
                        .executor(clientThreads)
                        .build();
        AtomicReferenceArray<CompletableFuture<?>> inFlight = new AtomicReferenceArray<>(CLIENTS);
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            channels.add(
                    NettyChannelBuilder.forAddress("127.0.0.1", apiPorts[target])
                            .usePlaintext()
                            .executor(clientThreads)
                            .build());
        }
        try {
            for (int client = 0; client < CLIENTS; client++) {
                gatewayRange(gatewayClient, target, client, inFlight, stopped, outcomes);
                grpcRange(
                        KVGrpc.newStub(channels.get(client % channels.size())), stopped, outcomes);
            }
            Thread.sleep(LOAD.toMillis());
            DaemonCluster.awaitTrue(
                    "an answer to each kind of client",
                    MOST_LOAD.minus(LOAD),
                    () -> answered(outcomes, "gateway 200") && answered(outcomes, "grpc OK"));
        } finally {
            // Every client leaves at once, as a load generator that stops does.
            stopped.set(true);
            for (int client = 0; client < CLIENTS; client++) {
                CompletableFuture<?> request = inFlight.get(client);
                if (request != null) {
                    request.cancel(true);
                }
            }
            channels.forEach(ManagedChannel::shutdownNow);
            clientThreads.shutdownNow();
        }
        Map<String, Long> counted = new TreeMap<>();
        outcomes.forEach((outcome, count) -> counted.put(outcome, count.sum()));
        return counted;
    }

    private static boolean answered(Map<String, LongAdder> outcomes, String outcome) {
        LongAdder count = outcomes.get(outcome);
        return count != null && count.sum() > 0;
    }

    private void gatewayRange(
            HttpClient client,
            int target,
            int slot,
            AtomicReferenceArray<CompletableFuture<?>> inFlight,
            AtomicBoolean stopped,
            Map<String, LongAdder> outcomes) {
        if (stopped.get()) {
            return;
        }
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(url(target, "/v3/kv/range")))
                        .timeout(CLIENT_TIMEOUT)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + b64(KEY) + "\"}"))
                        .build();
        CompletableFuture<HttpResponse<Void>> sent =
                client.sendAsync(request, HttpResponse.BodyHandlers.discarding());
        inFlight.set(slot, sent);
        sent.whenComplete(
                (response, error) -> {
                    if (stopped.get()) {
                        return;
                    }
                    String outcome =
                            error == null
                                    ? "gateway " + response.statusCode()
                                    : "gateway failed "
                                            + rootCause(error).getClass().getSimpleName();
                    outcomes.computeIfAbsent(outcome, o -> new LongAdder()).increment();
                    gatewayRange(client, target, slot, inFlight, stopped, outcomes);
                });
    }

    private static void grpcRange(
            KVGrpc.KVStub kv, AtomicBoolean stopped, Map<String, LongAdder> outcomes) {
        if (stopped.get()) {
            return;
        }
        kv.withDeadlineAfter(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .range(
                        RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(KEY)).build(),
                        new StreamObserver<>() {
                            @Override
                            public void onNext(RangeResponse response) {}

                            @Override
                            public void onError(Throwable error) {
                                ended("grpc " + Status.fromThrowable(error).getCode());
                            }

                            @Override
                            public void onCompleted() {
                                ended("grpc OK");
                            }

                            private void ended(String outcome) {
                                if (!stopped.get()) {
                                    outcomes.computeIfAbsent(outcome, o -> new LongAdder())
                                            .increment();
                                    grpcRange(kv, stopped, outcomes);
                                }
                            }
                        });
    }

    /**
     * Every member ready, taking a write and answering linearizable reads on both APIs, every
     * budget at zero.
     */
    private void assertEveryMemberServes(String after) throws Exception {
        for (int i = 0; i < 3; i++) {
            int member = i;
            DaemonCluster.awaitTrue(
                    "n" + (i + 1) + " ready after the " + after + "'s load",
                    RECOVERY,
                    () -> status(member, "/health/ready") == 200);
        }
        for (int i = 0; i < 3; i++) {
            int member = i;
            String key = "after-" + after + "-n" + (i + 1);
            DaemonCluster.awaitTrue(
                    "a write and linearizable reads on n"
                            + (i + 1)
                            + " after the "
                            + after
                            + "'s load",
                    RECOVERY,
                    () -> writesAndReads(member, key));
        }
        for (int i = 0; i < 3; i++) {
            int member = i;
            DaemonCluster.awaitTrue(
                    "every admission budget of n" + (i + 1) + " at zero",
                    RECOVERY,
                    () -> budgetsAtZero(member));
        }
    }

    /**
     * One attempt: a put through member's gateway, read back through its gateway and its gRPC API.
     */
    private boolean writesAndReads(int member, String key) {
        try {
            return put(member, key, "written").statusCode() == 200
                    && gatewayValue(member, key).equals("written")
                    && grpcValue(member, key).equals("written");
        } catch (Exception | AssertionError notYet) {
            return false;
        }
    }

    private boolean budgetsAtZero(int member) {
        try {
            Scrape scrape = new Scrape(get(member, "/metrics").body());
            List<Scrape.Sample> gauges = new ArrayList<>(scrape.all("capstan_admission_in_use"));
            gauges.addAll(scrape.all("capstan_admission_queued"));
            assertEquals(12, gauges.size(), "two gauges for each of the six budgets: " + gauges);
            return gauges.stream().allMatch(sample -> sample.value() == 0);
        } catch (Exception unreachable) {
            return false;
        }
    }

    /** The highest Raft term a member reports: it rises with every election. */
    private long term() throws Exception {
        long term = 0;
        for (int i = 0; i < 3; i++) {
            term =
                    Math.max(
                            term,
                            JSON.readTree(get(i, "/health/ready").body())
                                    .path("raft")
                                    .path("term")
                                    .asLong());
        }
        return term;
    }

    private int leader() throws Exception {
        for (int i = 0; i < 3; i++) {
            if (JSON.readTree(get(i, "/health/ready").body())
                    .path("raft")
                    .path("role")
                    .asText()
                    .equals("leader")) {
                return i;
            }
        }
        throw new AssertionError("no member reports itself leader");
    }

    private HttpResponse<String> put(int member, String key, String value) throws Exception {
        return post(
                member,
                "/v3/kv/put",
                "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
    }

    private String gatewayValue(int member, String key) throws Exception {
        HttpResponse<String> read = post(member, "/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}");
        assertEquals(200, read.statusCode(), read.body());
        JsonNode kvs = JSON.readTree(read.body()).path("kvs");
        assertEquals(1, kvs.size(), read.body());
        return new String(
                Base64.getDecoder().decode(kvs.get(0).path("value").asText()),
                StandardCharsets.UTF_8);
    }

    private String grpcValue(int member, String key) throws InterruptedException {
        ManagedChannel channel =
                NettyChannelBuilder.forAddress("127.0.0.1", apiPorts[member])
                        .usePlaintext()
                        .build();
        try {
            RangeResponse read =
                    KVGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                            .range(
                                    RangeRequest.newBuilder()
                                            .setKey(ByteString.copyFromUtf8(key))
                                            .build());
            assertEquals(1, read.getKvsCount(), read.toString());
            return read.getKvs(0).getValue().toStringUtf8();
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private HttpResponse<String> post(int member, String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url(member, path)))
                        .timeout(CHECK_TIMEOUT)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(int member, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url(member, path)))
                        .timeout(CHECK_TIMEOUT)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private int status(int member, String path) {
        try {
            return get(member, path).statusCode();
        } catch (Exception unreachable) {
            return -1;
        }
    }

    private String url(int member, String path) {
        return "http://127.0.0.1:" + webPorts[member] + path;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static Throwable rootCause(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
