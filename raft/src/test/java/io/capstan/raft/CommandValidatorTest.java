package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static io.capstan.raft.Ops.compare;
import static io.capstan.raft.Ops.deleteReq;
import static io.capstan.raft.Ops.op;
import static io.capstan.raft.Ops.putReq;
import static io.capstan.raft.Ops.rangeReq;
import static io.capstan.raft.Ops.txn;
import static io.capstan.raft.Ops.txnReq;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.raft.InvalidCommandException.Reason;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Compare;
import io.capstan.raft.proto.MemberDeleteRequest;
import io.capstan.raft.proto.MemberPutRequest;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.RequestOp;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CommandValidatorTest {
    private final CommandValidator validator =
            new CommandValidator(new Limits(16, 32, 4096, 4, 100));

    private Reason reason(Command command) {
        return assertThrows(InvalidCommandException.class, () -> validator.validate(command))
                .reason();
    }

    @Test
    void refusesEmptyAndOversizedKeysAndValues() {
        assertEquals(Reason.EMPTY_KEY, reason(Ops.put("", "v")));
        assertEquals(Reason.KEY_TOO_LARGE, reason(Ops.put("k".repeat(17), "v")));
        assertEquals(Reason.VALUE_TOO_LARGE, reason(Ops.put("k", "v".repeat(33))));
        assertEquals(Reason.EMPTY_KEY, reason(Ops.delete("")));
        assertDoesNotThrow(() -> validator.validate(Ops.put("k".repeat(16), "v".repeat(32))));
    }

    @Test
    void refusesMalformedMemberRecords() {
        MemberRecord good =
                MemberRecord.newBuilder()
                        .setId(5)
                        .setName("n4")
                        .addPeerUrls("http://127.0.0.1:7484")
                        .addClientUrls("https://[::1]:23794")
                        .build();
        assertDoesNotThrow(() -> validator.validate(memberPut(good)));
        assertEquals(Reason.MALFORMED, reason(memberPut(good.toBuilder().setId(0).build())));
        assertEquals(Reason.MALFORMED, reason(memberPut(good.toBuilder().setName("n 4").build())));
        assertEquals(Reason.MALFORMED, reason(memberPut(good.toBuilder().clearPeerUrls().build())));
        for (String bad :
                List.of(
                        "127.0.0.1:7484",
                        "ftp://h:1",
                        "http://h",
                        "http://h:1/path",
                        "http://u@h:1")) {
            assertEquals(
                    Reason.MALFORMED,
                    reason(memberPut(good.toBuilder().setPeerUrls(0, bad).build())),
                    bad);
        }
        assertEquals(
                Reason.MALFORMED,
                reason(
                        Command.newBuilder()
                                .setMemberDelete(MemberDeleteRequest.getDefaultInstance())
                                .build()));
    }

    private static Command memberPut(MemberRecord record) {
        return Command.newBuilder()
                .setMemberPut(MemberPutRequest.newBuilder().setMember(record))
                .build();
    }

    @Test
    void refusesOversizedRequests() {
        CommandValidator small = new CommandValidator(new Limits(16, 1 << 20, 100, 4, 100));
        InvalidCommandException e =
                assertThrows(
                        InvalidCommandException.class,
                        () -> small.validate(Ops.put("k", "v".repeat(200))));
        assertEquals(Reason.REQUEST_TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("limit 100"), e.getMessage());
    }

    @Test
    void refusesIgnoreFlagsWithValues() {
        assertEquals(
                Reason.VALUE_PROVIDED,
                reason(
                        Ops.put(
                                PutRequest.newBuilder()
                                        .setKey(bytes("k"))
                                        .setValue(bytes("v"))
                                        .setIgnoreValue(true)
                                        .build())));
        assertEquals(
                Reason.LEASE_PROVIDED,
                reason(
                        Ops.put(
                                PutRequest.newBuilder()
                                        .setKey(bytes("k"))
                                        .setLease(3)
                                        .setIgnoreLease(true)
                                        .build())));
    }

    @Test
    void boundsTransactions() {
        List<RequestOp> five = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            five.add(op(putReq("k" + i, "v")));
        }
        assertEquals(Reason.TOO_MANY_OPS, reason(txn(List.of(), five, List.of())));
        assertEquals(
                Reason.TOO_MANY_OPS,
                reason(
                        txn(
                                Collections.nCopies(
                                        5, compare("k", Compare.CompareResult.EQUAL).build()),
                                List.of(),
                                List.of())));
        Command nestedTooDeep = txn(List.of(), List.of(), List.of());
        for (int i = 0; i < CommandValidator.MAX_TXN_DEPTH; i++) {
            nestedTooDeep = txn(List.of(), List.of(op(nestedTooDeep.getTxn())), List.of());
        }
        assertEquals(Reason.MALFORMED, reason(nestedTooDeep));
    }

    @Test
    void refusesKeysWrittenTwiceInOneBranch() {
        assertEquals(
                Reason.DUPLICATE_KEY,
                reason(
                        txn(
                                List.of(),
                                List.of(op(putReq("a", "1")), op(putReq("a", "2"))),
                                List.of())));
        assertEquals(
                Reason.DUPLICATE_KEY,
                reason(
                        txn(
                                List.of(),
                                List.of(op(deleteReq("a", "c")), op(putReq("b", "2"))),
                                List.of())));
        assertEquals(
                Reason.DUPLICATE_KEY,
                reason(
                        txn(
                                List.of(),
                                List.of(
                                        op(putReq("b", "2")),
                                        op(
                                                txnReq(
                                                        List.of(),
                                                        List.of(op(putReq("b", "3"))),
                                                        List.of()))),
                                List.of())));
        // Different branches, overlapping deletes, and the two branches of a nested txn are fine.
        assertDoesNotThrow(
                () ->
                        validator.validate(
                                txn(
                                        List.of(),
                                        List.of(op(putReq("a", "1"))),
                                        List.of(op(putReq("a", "2"))))));
        assertDoesNotThrow(
                () ->
                        validator.validate(
                                txn(
                                        List.of(),
                                        List.of(op(deleteReq("a", "c")), op(deleteReq("b", "d"))),
                                        List.of())));
        assertDoesNotThrow(
                () ->
                        validator.validate(
                                txn(
                                        List.of(),
                                        List.of(
                                                op(
                                                        txnReq(
                                                                List.of(),
                                                                List.of(op(putReq("x", "1"))),
                                                                List.of(op(putReq("x", "2")))))),
                                        List.of())));
    }

    @Test
    void refusesMismatchedCompareTargets() {
        Command mismatched =
                txn(
                        List.of(
                                compare("k", Compare.CompareResult.EQUAL)
                                        .setTarget(Compare.CompareTarget.VALUE)
                                        .setVersion(3)
                                        .build()),
                        List.of(),
                        List.of());
        InvalidCommandException e =
                assertThrows(InvalidCommandException.class, () -> validator.validate(mismatched));
        assertTrue(e.getMessage().contains("VALUE"), e.getMessage());
    }

    @Test
    void refusesBadLeaseArguments() {
        assertEquals(Reason.TTL_TOO_LARGE, reason(Ops.grant(0, 101)));
        assertEquals(Reason.MALFORMED, reason(Ops.grant(0, 0)));
        assertEquals(Reason.MALFORMED, reason(Ops.grant(-1, 10)));
        assertEquals(Reason.MALFORMED, reason(Ops.revoke(0)));
        assertEquals(Reason.MALFORMED, reason(Ops.keepAlive(-4)));
        assertEquals(
                Reason.MALFORMED,
                reason(
                        Command.newBuilder()
                                .setLeaseExpire(
                                        io.capstan.raft.proto.LeaseExpireRequest
                                                .getDefaultInstance())
                                .build()));
    }

    @Test
    void refusesEmptyAndMalformedQueries() {
        assertEquals(Reason.MALFORMED, reason(Command.getDefaultInstance()));
        assertThrows(
                InvalidCommandException.class,
                () -> validator.validate(Query.getDefaultInstance()));
        // etcd reads a negative limit as none and a negative revision as the latest.
        assertDoesNotThrow(
                () ->
                        validator.validate(
                                Ops.range(
                                        rangeReq("a", "").toBuilder()
                                                .setLimit(-1)
                                                .setRevision(-1)
                                                .setMaxModRevision(-1)
                                                .build())));
        assertDoesNotThrow(() -> validator.validate(Ops.compact(-1)));
        assertThrows(
                InvalidCommandException.class,
                () ->
                        validator.validate(
                                Ops.range(
                                        rangeReq("a", "").toBuilder()
                                                .setSortOrderValue(7)
                                                .build())));
        assertDoesNotThrow(() -> validator.validate(Ops.range(rangeReq("a", "b"))));
    }

    @Test
    void printsKeysReadably() {
        assertEquals("\"abc\"", CommandValidator.printable(bytes("abc")));
        assertEquals(
                "0x00ff",
                CommandValidator.printable(ByteString.copyFrom(new byte[] {0, (byte) 0xff})));
    }
}
