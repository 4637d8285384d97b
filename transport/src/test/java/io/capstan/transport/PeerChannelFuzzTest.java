package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capstan.transport.TestCluster.Node;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the peer route, {@code GET} {@value PeerChannels#PATH}, as a stranger and as a peer. Only
 * member {@code n0} runs its Raft server (see {@link PeerChannelSecurityTest}), so every request
 * Ratis sees there is the fuzzer's.
 *
 * <p>Without the cluster secret or with a wrong one, any method, body and content type: the answer
 * is a 4xx with a body (401 for the route's own method, the WebSocket handshake included) and
 * nothing reaches Ratis. With the secret, on an open channel: a request frame of any operation with
 * any payload is answered (a reply or a failure frame) within {@link RawPeerChannel#WAIT}, except
 * ordered client requests, which Ratis may hold for the sequence numbers before them; a message
 * that is not a request frame ends the channel: a request after it is never answered. After every
 * input the member's Raft server still runs and its log has taken nothing (its group has no quorum,
 * so it cannot commit).
 *
 * <p>CI runs {@code maxDuration}; {@code JAZZER_MAX_DURATION} runs longer (README, Bad input).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class PeerChannelFuzzTest {
    private static final long MAX_MESSAGE_BYTES = 4L << 20;
    private static final String[] METHODS = {
        "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"
    };
    private static final String[] CONTENT_TYPES = {
        "application/octet-stream",
        "application/json",
        "application/x-protobuf",
        "text/plain",
        "multipart/form-data"
    };
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .connectTimeout(RawPeerChannel.WAIT)
                    .version(HttpClient.Version.HTTP_1_1)
                    .build();

    @TempDir static Path dir;
    private static TestCluster cluster;
    private static Node running;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.withWebLayers(3, dir, MAX_MESSAGE_BYTES);
        running = cluster.nodes.get(0);
        running.server.start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @FuzzTest(maxDuration = "20s")
    void peerRoute(FuzzedDataProvider data) throws Exception {
        long handed = running.transport.handedToRatis();
        long lastIndex = lastLogIndex();
        if (data.consumeBoolean()) {
            String secret = data.consumeBoolean() ? null : wrongSecret(data.consumeBytes(64));
            if (data.consumeBoolean()) {
                assertEquals(401, RawPeerChannel.refusedHandshake(running, secret));
            } else {
                stranger(data, secret);
            }
            assertEquals(
                    handed,
                    running.transport.handedToRatis(),
                    "a request without the secret reached Ratis");
        } else {
            try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
                peer(data, channel);
            }
        }
        assertEquals(
                LifeCycle.State.RUNNING,
                running.server.getLifeCycleState(),
                "the Raft server stopped");
        assertEquals(lastIndex, lastLogIndex(), "the log took an entry");
    }

    /**
     * A plain HTTP request of any method, content type and body, with {@code secret} unless null.
     */
    private static void stranger(FuzzedDataProvider data, String secret) throws Exception {
        String method = data.pickValue(METHODS);
        String suffix =
                data.consumeBoolean()
                        ? ""
                        : "?" + Base64.getUrlEncoder().encodeToString(data.consumeBytes(32));
        HttpRequest.Builder request =
                HttpRequest.newBuilder(
                                RawPeerChannel.uri(running, "http")
                                        .resolve(PeerChannels.PATH + suffix))
                        .timeout(RawPeerChannel.WAIT)
                        .header("Content-Type", data.pickValue(CONTENT_TYPES))
                        .method(
                                method,
                                HttpRequest.BodyPublishers.ofByteArray(data.consumeBytes(4096)));
        if (secret != null) {
            request.header(PeerAuthenticator.HEADER_NAME, secret);
        }
        HttpResponse<String> answer =
                HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        int status = answer.statusCode();
        assertTrue(
                status >= 400 && status < 500,
                () -> method + " answered " + status + ": " + answer.body());
        if (method.equals("GET")) {
            assertEquals(401, status, answer.body());
        }
        if (!method.equals("HEAD")) {
            assertFalse(
                    answer.body().isBlank(),
                    () -> method + " answered " + status + " without a body");
        }
    }

    /**
     * Frames of any operation and payload, then possibly one message that is not a request frame.
     */
    private static void peer(FuzzedDataProvider data, RawPeerChannel channel) throws Exception {
        TransportLimits limits = running.transport.limits();
        int requests = data.consumeInt(0, 4);
        for (int i = 0; i < requests; i++) {
            Operation operation = data.pickValue(Operation.values());
            long id = data.consumeLong();
            // Oversize for a client request, yet within what a server request may carry.
            byte[] payload =
                    data.consumeBoolean()
                            ? new byte[(int) limits.clientBodyBytes() + 1]
                            : data.consumeBytes(512);
            channel.send(PeerFrame.request(id, operation, payload));
            if (operation == Operation.CLIENT_ORDERED) {
                continue;
            }
            PeerFrame answer = channel.next();
            while (answer.id() != id) {
                // A late answer to an ordered client request sent before.
                answer = channel.next();
            }
            PeerFrame.Kind kind = answer.kind();
            assertTrue(
                    kind == PeerFrame.Kind.REPLY || kind == PeerFrame.Kind.FAILURE,
                    () -> operation.label() + " was answered with " + kind);
            if (kind == PeerFrame.Kind.FAILURE) {
                String message = PeerWire.decodeError(answer.payload(), "n0").getMessage();
                assertTrue(
                        message != null && !message.isBlank(),
                        operation.label() + " failed without a message");
            }
        }
        if (data.consumeBoolean()) {
            byte[] junk = data.consumeRemainingAsBytes();
            boolean request =
                    junk.length >= PeerFrame.HEADER_BYTES
                            && junk[0] == 1
                            && Operation.of(junk[PeerFrame.HEADER_BYTES - 1]) != null;
            if (!request) {
                channel.sendBytes(ByteBuffer.wrap(junk));
                channel.assertNoLongerAnswers();
            }
        }
    }

    private static String secret() {
        return Base64.getEncoder().encodeToString(TestCluster.SECRET);
    }

    /** {@code bytes} in base64, never the cluster secret. */
    private static String wrongSecret(byte[] bytes) {
        return Arrays.equals(bytes, TestCluster.SECRET)
                ? "bm90LXRoZS1zZWNyZXQ="
                : Base64.getEncoder().encodeToString(bytes);
    }

    private static long lastLogIndex() throws IOException {
        TermIndex last =
                running.server
                        .getDivision(cluster.group.getGroupId())
                        .getRaftLog()
                        .getLastEntryTermIndex();
        return last == null ? -1 : last.getIndex();
    }
}
