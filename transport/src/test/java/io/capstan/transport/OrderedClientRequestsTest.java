package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.SlidingWindowEntry;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The ordering rules, with a fake clock and a submitter that records what Ratis would receive. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OrderedClientRequestsTest {

    private static final Duration MAX_WAIT = Duration.ofSeconds(5);
    private static final RaftGroupId GROUP = RaftGroupId.randomId();
    private static final RaftPeerId SERVER = RaftPeerId.valueOf("s1");

    private final AtomicLong now = new AtomicLong();
    private final OrderedClientRequests ordered = new OrderedClientRequests(MAX_WAIT, now::get);

    /** What was submitted, in order, as "client:seq". */
    private final List<String> submitted = new ArrayList<>();

    private final AtomicLong callIds = new AtomicLong();
    private final ClientId client = ClientId.randomId();

    private final OrderedClientRequests.Submitter submitter =
            request -> {
                submitted.add(label(request));
                return CompletableFuture.completedFuture(
                        RaftClientReply.newBuilder().setRequest(request).setSuccess().build());
            };

    @Test
    void requestsArrivingInAnyOrderAreSubmittedInSequenceOrder() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        List<RaftClientRequest> requests = new ArrayList<>();
        for (int seq = 1; seq <= 50; seq++) {
            requests.add(request(client, seq, seq == 1));
        }
        Collections.shuffle(requests, random);

        List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();
        requests.forEach(r -> replies.add(ordered.submit(r, submitter)));

        List<String> expected = new ArrayList<>();
        for (int seq = 1; seq <= 50; seq++) {
            expected.add(client + ":" + seq);
        }
        assertEquals(expected, submitted, "seed " + seed);
        for (CompletableFuture<RaftClientReply> reply : replies) {
            assertTrue(reply.get(1, TimeUnit.SECONDS).isSuccess(), "seed " + seed);
        }
    }

    @Test
    void eachClientIsOrderedOnItsOwn() {
        ClientId other = ClientId.randomId();

        ordered.submit(request(client, 2, false), submitter);
        ordered.submit(request(other, 1, true), submitter);
        ordered.submit(request(other, 2, false), submitter);
        ordered.submit(request(client, 1, true), submitter);

        assertEquals(List.of(other + ":1", other + ":2", client + ":1", client + ":2"), submitted);
        assertEquals(2, ordered.streamCount());
    }

    @Test
    void aRetryOfAnAlreadySubmittedRequestIsSubmittedAgainAtOnce() {
        ordered.submit(request(client, 1, true), submitter);
        ordered.submit(request(client, 2, false), submitter);

        CompletableFuture<RaftClientReply> retry =
                ordered.submit(request(client, 1, false), submitter);

        assertTrue(retry.isDone());
        assertEquals(List.of(client + ":1", client + ":2", client + ":1"), submitted);
    }

    @Test
    void aNewFirstRequestRestartsTheWindowAndFailsWhatWaitedBelowIt() {
        ordered.submit(request(client, 1, true), submitter);
        CompletableFuture<RaftClientReply> stale =
                ordered.submit(request(client, 3, false), submitter);
        assertFalse(stale.isDone(), "#3 waits for #2");

        // The client gave up on #2 and #3 and restarted its window at #4.
        ordered.submit(request(client, 5, false), submitter);
        ordered.submit(request(client, 4, true), submitter);

        assertEquals(List.of(client + ":1", client + ":4", client + ":5"), submitted);
        ExecutionException failed =
                assertThrows(ExecutionException.class, () -> stale.get(1, TimeUnit.SECONDS));
        assertInstanceOf(AlreadyClosedException.class, failed.getCause());
    }

    @Test
    void aFirstRequestThatWasAlsoWaitingIsNotStuckBehindItself() {
        // An old copy of #2 waits (its window never started here), then the client restarts at #2.
        CompletableFuture<RaftClientReply> oldCopy =
                ordered.submit(request(client, 2, false), submitter);
        ordered.submit(request(client, 2, true), submitter);
        ordered.submit(request(client, 3, false), submitter);

        assertTrue(oldCopy.isDone());
        assertEquals(List.of(client + ":2", client + ":2", client + ":3"), submitted);
    }

    @Test
    void aRequestWaitingTooLongFailsAsRetryable() throws Exception {
        ordered.submit(request(client, 1, true), submitter);
        CompletableFuture<RaftClientReply> orphan =
                ordered.submit(request(client, 3, false), submitter);

        now.addAndGet(MAX_WAIT.toNanos() - 1);
        ordered.expire();
        assertFalse(orphan.isDone());

        now.addAndGet(1);
        ordered.expire();
        ExecutionException failed =
                assertThrows(ExecutionException.class, () -> orphan.get(1, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutIOException.class, failed.getCause());
        assertEquals(List.of(client + ":1"), submitted);
    }

    @Test
    void idleStreamsAreForgottenAndTheirClientRecoversWithItsNextFirstRequest() {
        ordered.submit(request(client, 1, true), submitter);
        now.addAndGet(OrderedClientRequests.IDLE_STREAM_EXPIRY.toNanos());
        ordered.expire();
        assertEquals(0, ordered.streamCount());

        CompletableFuture<RaftClientReply> afterGap =
                ordered.submit(request(client, 2, false), submitter);
        assertFalse(afterGap.isDone(), "a forgotten stream cannot know #2 is next");
        ordered.submit(request(client, 2, true), submitter);

        assertTrue(afterGap.isDone());
        assertEquals(List.of(client + ":1", client + ":2", client + ":2"), submitted);
    }

    @Test
    void waitingRequestsPerClientAreBounded() throws Exception {
        ordered.submit(request(client, 1, true), submitter);
        for (int i = 0; i < OrderedClientRequests.MAX_WAITING_PER_STREAM; i++) {
            assertFalse(ordered.submit(request(client, 3 + i, false), submitter).isDone());
        }

        CompletableFuture<RaftClientReply> refused =
                ordered.submit(
                        request(client, 3 + OrderedClientRequests.MAX_WAITING_PER_STREAM, false),
                        submitter);

        ExecutionException failed =
                assertThrows(ExecutionException.class, () -> refused.get(1, TimeUnit.SECONDS));
        assertInstanceOf(ResourceUnavailableException.class, failed.getCause());
    }

    @Test
    void requestsOutsideAWindowAreSubmittedDirectly() {
        CompletableFuture<RaftClientReply> reply =
                ordered.submit(request(client, 0, false), submitter);

        assertTrue(reply.isDone());
        assertEquals(List.of(client + ":0"), submitted);
        assertEquals(0, ordered.streamCount());
    }

    private RaftClientRequest request(ClientId from, long seq, boolean first) {
        return RaftClientRequest.newBuilder()
                .setClientId(from)
                .setServerId(SERVER)
                .setGroupId(GROUP)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf("m" + seq))
                .setType(RaftClientRequest.writeRequestType())
                .setSlidingWindowEntry(
                        SlidingWindowEntry.newBuilder().setSeqNum(seq).setIsFirst(first).build())
                .build();
    }

    private static String label(RaftClientRequest request) {
        return request.getClientId() + ":" + request.getSlidingWindowEntry().getSeqNum();
    }
}
