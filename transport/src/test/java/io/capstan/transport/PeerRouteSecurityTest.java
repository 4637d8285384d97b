package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.transport.TestCluster.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
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
 * What the peer routes let through. Only member {@code n0} runs its Raft server; {@code n1} and
 * {@code n2} have web layers and built but unstarted servers, so nothing but these tests talks
 * to {@code n0}'s routes and every request Ratis sees there is one of ours.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerRouteSecurityTest {

    private static final long MAX_MESSAGE_BYTES = 4L << 20;
    private static final long FORGED_TERM_LEAD = 1000;

    @TempDir
    Path dir;

    private TestCluster cluster;
    private Node running;
    private Node unstarted;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

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
    void voteWithoutOrWithWrongSecretIsRefusedBeforeRatisSeesIt() throws Exception {
        long forgedTerm = running.currentTerm(cluster.group.getGroupId()) + FORGED_TERM_LEAD;
        byte[] vote = forgedVote(running, forgedTerm);

        HttpResponse<String> missing = post(running, Operation.REQUEST_VOTE, vote, null);
        HttpResponse<String> wrong = post(running, Operation.REQUEST_VOTE, vote,
                Base64.getEncoder().encodeToString("not-the-cluster-secret".getBytes(StandardCharsets.US_ASCII)));

        for (HttpResponse<String> refused : List.of(missing, wrong)) {
            assertEquals(401, refused.statusCode());
            assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            assertTrue(refused.body().contains("\"code\":\"unauthorized\""), refused.body());
            assertTrue(refused.body().contains(PeerAuthenticator.HEADER_NAME), refused.body());
        }
        assertEquals(0, running.transport.handedToRatis());
        assertTrue(running.currentTerm(cluster.group.getGroupId()) < forgedTerm, "the forged vote changed nothing");

        // The same bytes with the secret do reach Ratis, which adopts the candidate's term.
        HttpResponse<byte[]> accepted = postForBytes(running, Operation.REQUEST_VOTE, vote, secretHeader());
        assertEquals(200, accepted.statusCode());
        assertEquals(PeerWire.REPLY_TYPE, accepted.headers().firstValue("Content-Type").orElse(""));
        RequestVoteReplyProto reply = RequestVoteReplyProto.parseFrom(accepted.body());
        assertEquals(forgedTerm, reply.getTerm());
        assertEquals(1, running.transport.handedToRatis());
        assertEquals(forgedTerm, running.currentTerm(cluster.group.getGroupId()));
    }

    @Test
    void malformedBodyWithTheSecretGets400AndNeverReachesRatis() throws Exception {
        HttpResponse<String> response = post(running, Operation.APPEND_ENTRIES,
                "not a protobuf".getBytes(StandardCharsets.US_ASCII), secretHeader());

        assertEquals(400, response.statusCode());
        assertTrue(response.body().contains("\"code\":\"bad_request\""), response.body());
        assertTrue(response.body().contains("malformed /raft/v1/append-entries request"), response.body());
        assertEquals(0, running.transport.handedToRatis());
    }

    @Test
    void requestBeforeTheServerIsStartedGets503AndIsRetryableForRatis() throws Exception {
        byte[] vote = forgedVote(unstarted, 1);

        HttpResponse<String> response = post(unstarted, Operation.REQUEST_VOTE, vote, secretHeader());

        assertEquals(503, response.statusCode());
        assertEquals("1", response.headers().firstValue("Retry-After").orElse(""));
        assertTrue(response.body().contains("\"code\":\"unavailable\""), response.body());
        assertEquals(0, unstarted.transport.handedToRatis());
    }

    @Test
    void unstartedServerSendsNothingToItsPeers() throws Exception {
        RequestVoteRequestProto vote = RequestVoteRequestProto.parseFrom(forgedVote(running, 1));
        RequestVoteRequestProto fromUnstarted = vote.toBuilder()
                .setServerRequest(vote.getServerRequest().toBuilder().setRequestorId(unstarted.id.toByteString()))
                .build();

        assertThrows(ServerNotReadyException.class, () -> unstarted.server.getServerRpc().requestVote(fromUnstarted));
        assertEquals(0, running.transport.handedToRatis());
    }

    @Test
    void clientPathsRefuseBodiesAboveTheLargestEntryWhileServerPathsTakeAppendBatches() throws Exception {
        TransportLimits limits = running.transport.limits();
        byte[] body = new byte[(int) limits.clientBodyBytes() + 1];

        HttpResponse<String> client = post(running, Operation.CLIENT_UNORDERED, body, secretHeader());
        HttpResponse<String> server = post(running, Operation.APPEND_ENTRIES, body, secretHeader());

        assertEquals(413, client.statusCode());
        assertTrue(client.body().contains("\"code\":\"payload_too_large\""), client.body());
        // Accepted by size, then refused as what it is: not an append request.
        assertEquals(400, server.statusCode());
        assertEquals(0, running.transport.handedToRatis());
    }

    /** An ELECTION-phase vote from member n2 that, if Ratis accepted it, would move the term. */
    private byte[] forgedVote(Node target, long term) {
        RaftRpcRequestProto header = RaftRpcRequestProto.newBuilder()
                .setRequestorId(cluster.nodes.get(2).id.toByteString())
                .setReplyId(target.id.toByteString())
                .setRaftGroupId(RaftGroupIdProto.newBuilder().setId(cluster.group.getGroupId().toByteString()))
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

    private static String secretHeader() {
        return Base64.getEncoder().encodeToString(TestCluster.SECRET);
    }

    private HttpResponse<String> post(Node node, Operation operation, byte[] body, String secret) throws Exception {
        return http.send(request(node, operation, body, secret), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<byte[]> postForBytes(Node node, Operation operation, byte[] body, String secret)
            throws Exception {
        return http.send(request(node, operation, body, secret), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpRequest request(Node node, Operation operation, byte[] body, String secret) {
        URI uri = URI.create("http://127.0.0.1:" + node.address().getPort() + operation.path());
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (secret != null) {
            builder.header(PeerAuthenticator.HEADER_NAME, secret);
        }
        return builder.build();
    }
}
