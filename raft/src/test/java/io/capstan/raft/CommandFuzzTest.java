package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.QueryResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the door of the Raft log: commands and queries as a client request carries them, in
 * sequences, through the state machine as the leader and every replica drive it (Jazzer's protobuf
 * mutator makes well-formed, oversize and odd messages; {@code garbage} adds bytes that may not
 * decode at all). Limits are small so that oversize keys, values, requests and transactions are
 * within the fuzzer's reach.
 *
 * <p>Invariants, checked after every step: {@code startTransaction} never throws, and either
 * accepts or refuses with an {@link InvalidCommandException} that names the problem; a refused
 * command never reaches apply, so nothing changes; an accepted one applies without throwing, and
 * when it answers with a failure nothing changes either; every query is answered, never thrown.
 *
 * <p>CI runs {@code maxDuration}; {@code JAZZER_MAX_DURATION} runs longer (README, Bad input).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class CommandFuzzTest {
    private static final Limits SMALL = new Limits(64, 256, 2048, 8, 1_000_000);
    private static final RaftGroupId GROUP = RaftGroupId.randomId();
    private static final RaftPeerId SELF = RaftPeerId.valueOf("n1");
    private static final ClientId CLIENT = ClientId.randomId();
    private static final ScheduledExecutorService LEASES =
            Executors.newSingleThreadScheduledExecutor();

    @AfterAll
    static void stopLeases() {
        LEASES.shutdownNow();
    }

    @FuzzTest(maxDuration = "20s")
    void commandsAndQueries(
            @NotNull List<@NotNull Command> commands,
            @NotNull List<@NotNull Query> queries,
            byte @NotNull [] garbage)
            throws Exception {
        KeyspaceStateMachine machine =
                new KeyspaceStateMachine(
                        "n1",
                        new CommandValidator(SMALL),
                        LEASES,
                        Clock.systemUTC(),
                        Duration.ofSeconds(1),
                        command -> CompletableFuture.completedFuture(null),
                        AppliedChanges.NONE,
                        Path.of("no-seed"),
                        100_000,
                        new CompletableFuture<>());
        long index = 0;
        for (Command command : commands) {
            index = propose(machine, command.toByteString().toByteArray(), index);
        }
        index = propose(machine, garbage, index);
        for (Query query : queries) {
            answer(machine, query.toByteArray());
        }
        answer(machine, garbage);
    }

    /** One proposal as the leader handles it: startTransaction, then apply if it was accepted. */
    private static long propose(KeyspaceStateMachine machine, byte[] bytes, long index)
            throws Exception {
        StateDigest before = machine.digest();
        TransactionContext transaction =
                machine.startTransaction(
                        RaftClientRequest.newBuilder()
                                .setClientId(CLIENT)
                                .setServerId(SELF)
                                .setGroupId(GROUP)
                                .setCallId(index)
                                .setMessage(Message.valueOf(ByteString.copyFrom(bytes)))
                                .setType(RaftClientRequest.writeRequestType())
                                .build());
        Exception refused = transaction.getException();
        if (refused != null) {
            assertTrue(
                    refused instanceof InvalidCommandException,
                    () -> "refused with " + refused.getClass().getName() + ": " + refused);
            assertFalse(refused.getMessage().isBlank(), "a refusal names its problem");
            assertEquals(before, machine.digest(), "a refused command changes nothing");
            return index;
        }
        transaction.initLogEntry(1, index + 1);
        Message reply = machine.applyTransaction(transaction).get(10, TimeUnit.SECONDS);
        CommandResult result = CommandResult.parseFrom(reply.getContent().asReadOnlyByteBuffer());
        if (result.hasFailure()) {
            assertEquals(before, machine.digest(), "a command that failed changes nothing");
        }
        return index + 1;
    }

    private static void answer(KeyspaceStateMachine machine, byte[] bytes) throws Exception {
        Message reply =
                machine.query(Message.valueOf(ByteString.copyFrom(bytes)))
                        .get(10, TimeUnit.SECONDS);
        assertNotNull(QueryResult.parseFrom(reply.getContent().asReadOnlyByteBuffer()));
    }
}
