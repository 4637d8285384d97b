package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.etcd.api.DeleteRangeResponse;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.ResponseHeader;
import io.capstan.etcd.api.ResponseOp;
import io.capstan.etcd.api.TxnResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** etcd's rules for the headers inside a transaction's response, case by case. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class TxnHeadersTest {

    @Test
    void aReadOnlyTransactionSeesOneRevisionThroughout() {
        TxnResponse filled = TxnHeaders.fill(txn(range(), deleted(0), range()), 7).build();

        assertEquals(List.of(7L, 7L, 7L), revisions(filled));
    }

    @Test
    void operationsBeforeTheFirstWriteSeeTheRevisionBeforeIt() {
        TxnResponse filled =
                TxnHeaders.fill(
                                txn(range(), deleted(0), put(), range(), deleted(0), deleted(2)),
                                10)
                        .build();

        assertEquals(List.of(9L, 9L, 10L, 10L, 10L, 10L), revisions(filled));
    }

    @Test
    void aDeleteThatDeletesIsTheFirstChange() {
        TxnResponse filled = TxnHeaders.fill(txn(range(), deleted(1), range()), 4).build();

        assertEquals(List.of(3L, 4L, 4L), revisions(filled));
    }

    @Test
    void aNestedTransactionHasAnEmptyHeaderAndItsOperationsFollowTheSameRules() {
        TxnResponse.Builder nested = txn(range(), put());
        TxnResponse filled =
                TxnHeaders.fill(
                                txn(
                                        range(),
                                        ResponseOp.newBuilder().setResponseTxn(nested),
                                        range()),
                                21)
                        .build();

        assertEquals(20, filled.getResponses(0).getResponseRange().getHeader().getRevision());
        TxnResponse inner = filled.getResponses(1).getResponseTxn();
        assertTrue(inner.hasHeader(), "etcd sends a nested transaction's header, empty");
        assertEquals(ResponseHeader.getDefaultInstance(), inner.getHeader());
        assertEquals(List.of(20L, 21L), revisions(inner));
        assertEquals(
                21,
                filled.getResponses(2).getResponseRange().getHeader().getRevision(),
                "the nested transaction's put counts as a change for what follows it");
    }

    @Test
    void aWriteOnlyInANestedTransactionStillMeansTheRevisionBeforeIsOneLess() {
        TxnResponse filled =
                TxnHeaders.fill(
                                txn(
                                        range(),
                                        ResponseOp.newBuilder().setResponseTxn(txn(deleted(3)))),
                                5)
                        .build();

        assertEquals(4, filled.getResponses(0).getResponseRange().getHeader().getRevision());
        assertEquals(List.of(5L), revisions(filled.getResponses(1).getResponseTxn()));
    }

    @Test
    void headersCarryOnlyTheRevision() {
        TxnResponse filled = TxnHeaders.fill(txn(put()), 3).build();

        assertEquals(
                ResponseHeader.newBuilder().setRevision(3).build(),
                filled.getResponses(0).getResponsePut().getHeader());
    }

    private static TxnResponse.Builder txn(ResponseOp.Builder... ops) {
        TxnResponse.Builder txn = TxnResponse.newBuilder().setSucceeded(true);
        for (ResponseOp.Builder op : ops) {
            txn.addResponses(op);
        }
        return txn;
    }

    private static ResponseOp.Builder range() {
        return ResponseOp.newBuilder().setResponseRange(RangeResponse.getDefaultInstance());
    }

    private static ResponseOp.Builder put() {
        return ResponseOp.newBuilder().setResponsePut(PutResponse.getDefaultInstance());
    }

    private static ResponseOp.Builder deleted(long count) {
        return ResponseOp.newBuilder()
                .setResponseDeleteRange(DeleteRangeResponse.newBuilder().setDeleted(count));
    }

    /** The header revision of each non-transaction operation, in order. */
    private static List<Long> revisions(TxnResponse txn) {
        return txn.getResponsesList().stream()
                .filter(op -> op.getResponseCase() != ResponseOp.ResponseCase.RESPONSE_TXN)
                .map(
                        op ->
                                switch (op.getResponseCase()) {
                                    case RESPONSE_RANGE ->
                                            op.getResponseRange().getHeader().getRevision();
                                    case RESPONSE_PUT ->
                                            op.getResponsePut().getHeader().getRevision();
                                    case RESPONSE_DELETE_RANGE ->
                                            op.getResponseDeleteRange().getHeader().getRevision();
                                    case RESPONSE_TXN, RESPONSE_NOT_SET ->
                                            throw new AssertionError("no header: " + op);
                                })
                .toList();
    }
}
