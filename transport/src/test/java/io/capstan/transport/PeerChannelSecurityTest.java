package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.transport.TestCluster.Node;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the peer channel lets through, driven by the JDK's own WebSocket client, not the
 * transport's. Only member {@code n0} runs its Raft server; {@code n1} and {@code n2} have web
 * layers and built but unstarted servers, so nothing but these tests talks to {@code n0}'s route
 * and every request Ratis sees there is one of ours.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerChannelSecurityTest {

    private static final long MAX_MESSAGE_BYTES = 4L << 20;
    private static final long FORGED_TERM_LEAD = 1000;
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir Path dir;

    private TestCluster cluster;
    private Node running;
    private Node unstarted;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        cluster = TestCluster.withWebLayers(3, dir, MAX_MESSAGE_BYTES);
        running = cluster.nodes.get(0);
        unstarted = cluster.nodes.get(1);
        running.server.start();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void channelWithoutOrWithAWrongSecretIsRefusedBeforeRatisSeesAnything() throws Exception {
        long forgedTerm = running.currentTerm(cluster.group.getGroupId()) + FORGED_TERM_LEAD;

        assertEquals(401, RawPeerChannel.refusedHandshake(running, null));
        assertEquals(
                401, RawPeerChannel.refusedHandshake(running, encoded("not-the-cluster-secret")));
        HttpResponse<String> plain = get(running, null);
        assertEquals(401, plain.statusCode());
        assertTrue(
                plain.headers()
                        .firstValue("Content-Type")
                        .orElse("")
                        .startsWith("application/json"));
        assertTrue(plain.body().contains("\"code\":\"unauthorized\""), plain.body());
        assertTrue(plain.body().contains(PeerAuthenticator.HEADER_NAME), plain.body());
        assertEquals(0, running.transport.handedToRatis());

        // With the secret, the same vote reaches Ratis, which adopts the candidate's term.
        try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
            PeerFrame answer =
                    channel.call(
                            PeerFrame.request(
                                    7, Operation.REQUEST_VOTE, forgedVote(running, forgedTerm)));
            assertEquals(PeerFrame.Kind.REPLY, answer.kind());
            assertEquals(7, answer.id());
            assertEquals(forgedTerm, RequestVoteReplyProto.parseFrom(answer.payload()).getTerm());
        }
        assertEquals(1, running.transport.handedToRatis());
        assertEquals(forgedTerm, running.currentTerm(cluster.group.getGroupId()));
    }

    @Test
    void malformedRequestIsAnsweredWithAFailureNeverReachesRatisAndTheChannelStaysOpen()
            throws Exception {
        try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
            PeerFrame answer =
                    channel.call(
                            PeerFrame.request(
                                    1,
                                    Operation.APPEND_ENTRIES,
                                    "not a protobuf".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(PeerFrame.Kind.FAILURE, answer.kind());
            IOException failure = PeerWire.decodeError(answer.payload(), "n0");
            assertTrue(
                    failure.getMessage().contains("malformed append-entries request"),
                    failure.getMessage());
            assertEquals(0, running.transport.handedToRatis());

            PeerFrame vote =
                    channel.call(
                            PeerFrame.request(2, Operation.REQUEST_VOTE, forgedVote(running, 1)));
            assertEquals(PeerFrame.Kind.REPLY, vote.kind());
            assertEquals(1, running.transport.handedToRatis());
        }
    }

    @Test
    void framesThatAreNotRequestsCloseTheChannel() throws Exception {
        try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
            channel.send(PeerFrame.reply(3, new byte[] {1, 2, 3}));
            channel.awaitClosed();
        }
        try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
            channel.sendBytes(ByteBuffer.wrap(new byte[] {1, 0, 0}));
            channel.awaitClosed();
        }
        try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
            channel.sendBytes(ByteBuffer.allocate(0));
            channel.awaitClosed();
        }
        assertEquals(0, running.transport.handedToRatis());
    }

    @Test
    void channelToAMemberWhoseServerIsNotStartedGets503AndIsRetryableForRatis() throws Exception {
        assertEquals(503, RawPeerChannel.refusedHandshake(unstarted, secret()));
        HttpResponse<String> plain = get(unstarted, secret());
        assertEquals(503, plain.statusCode());
        assertEquals("1", plain.headers().firstValue("Retry-After").orElse(""));
        assertTrue(plain.body().contains("\"code\":\"unavailable\""), plain.body());
        assertEquals(0, unstarted.transport.handedToRatis());
    }

    @Test
    void plainRequestWithTheSecretIsToldToHandshake() throws Exception {
        HttpResponse<String> plain = get(running, secret());
        assertEquals(400, plain.statusCode());
        assertTrue(plain.body().contains("WebSocket handshake"), plain.body());
        assertEquals(0, running.transport.handedToRatis());
    }

    @Test
    void unstartedServerSendsNothingToItsPeers() throws Exception {
        RequestVoteRequestProto vote = RequestVoteRequestProto.parseFrom(forgedVote(running, 1));
        RequestVoteRequestProto fromUnstarted =
                vote.toBuilder()
                        .setServerRequest(
                                vote.getServerRequest().toBuilder()
                                        .setRequestorId(unstarted.id.toByteString()))
                        .build();

        assertThrows(
                ServerNotReadyException.class,
                () -> unstarted.server.getServerRpc().requestVote(fromUnstarted));
        assertEquals(0, running.transport.handedToRatis());
    }

    @Test
    void clientOperationsRefuseRequestsAboveTheLargestEntryWhileServerOperationsTakeAppendBatches()
            throws Exception {
        TransportLimits limits = running.transport.limits();
        byte[] body = new byte[(int) limits.clientBodyBytes() + 1];

        try (RawPeerChannel channel = RawPeerChannel.open(running, secret())) {
            PeerFrame client = channel.call(PeerFrame.request(1, Operation.CLIENT_UNORDERED, body));
            PeerFrame server = channel.call(PeerFrame.request(2, Operation.APPEND_ENTRIES, body));

            assertEquals(PeerFrame.Kind.FAILURE, client.kind());
            String refusal = PeerWire.decodeError(client.payload(), "n0").getMessage();
            assertTrue(
                    refusal.contains("exceeds the limit of " + limits.clientBodyBytes() + " bytes"),
                    refusal);
            // Accepted by size, then refused as what it is: not an append request.
            assertEquals(PeerFrame.Kind.FAILURE, server.kind());
            String malformed = PeerWire.decodeError(server.payload(), "n0").getMessage();
            assertTrue(malformed.contains("malformed append-entries request"), malformed);
        }
        assertEquals(0, running.transport.handedToRatis());
    }

    /** An ELECTION-phase vote from member n2 that, if Ratis accepted it, would move the term. */
    private byte[] forgedVote(Node target, long term) {
        RaftRpcRequestProto header =
                RaftRpcRequestProto.newBuilder()
                        .setRequestorId(cluster.nodes.get(2).id.toByteString())
                        .setReplyId(target.id.toByteString())
                        .setRaftGroupId(
                                RaftGroupIdProto.newBuilder()
                                        .setId(cluster.group.getGroupId().toByteString()))
                        .setCallId(1)
                        .build();
        return RequestVoteRequestProto.newBuilder()
                .setServerRequest(header)
                .setCandidateTerm(term)
                .setCandidateLastEntry(TermIndexProto.newBuilder().setTerm(0).setIndex(0))
                .setPreVote(false)
                .build()
                .toByteArray();
    }

    private static String secret() {
        return Base64.getEncoder().encodeToString(TestCluster.SECRET);
    }

    private static String encoded(String secret) {
        return Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.US_ASCII));
    }

    private HttpResponse<String> get(Node node, String secret) throws Exception {
        HttpRequest.Builder builder =
                HttpRequest.newBuilder(RawPeerChannel.uri(node, "http")).timeout(WAIT).GET();
        if (secret != null) {
            builder.header(PeerAuthenticator.HEADER_NAME, secret);
        }
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }
}
