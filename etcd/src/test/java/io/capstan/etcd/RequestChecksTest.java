package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * etcd's request checks, including how a nested transaction shares its parent's operation budget.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RequestChecksTest {

    private final RequestChecks checks = new RequestChecks(new ApiLimits(1024, 4, 8));

    @Test
    void aNestedTransactionGetsWhatItsParentLeft() {
        // The parent uses 2 of 4; the nested one may use 2 more, not 3.
        assertDoesNotThrow(() -> checks.txn(txn(2, nested(2))));
        assertRefused(EtcdErrors.TOO_MANY_OPS, () -> checks.txn(txn(2, nested(3))));
        assertRefused(
                EtcdErrors.TOO_MANY_OPS,
                () ->
                        checks.txn(
                                TxnRequest.newBuilder()
                                        .addAllCompare(
                                                java.util.Collections.nCopies(5, compare("k")))
                                        .build()));
    }

    @Test
    void emptyThingsInsideATransactionAreRefusedAsEtcdRefusesThem() {
        assertRefused(
                EtcdErrors.EMPTY_KEY,
                () -> checks.txn(TxnRequest.newBuilder().addCompare(compare("")).build()));
        assertRefused(
                EtcdErrors.KEY_NOT_FOUND,
                () ->
                        checks.txn(
                                TxnRequest.newBuilder()
                                        .addSuccess(RequestOp.getDefaultInstance())
                                        .build()));
        assertRefused(
                EtcdErrors.EMPTY_KEY,
                () ->
                        checks.txn(
                                TxnRequest.newBuilder()
                                        .addFailure(
                                                RequestOp.newBuilder()
                                                        .setRequestRange(
                                                                RangeRequest.getDefaultInstance()))
                                        .build()));
    }

    @Test
    void putRulesComeInEtcdsOrderAndSizeLast() {
        assertRefused(
                EtcdErrors.EMPTY_KEY,
                () ->
                        checks.put(
                                PutRequest.newBuilder()
                                        .setIgnoreValue(true)
                                        .setValue(ByteString.copyFromUtf8("v"))
                                        .build()));
        assertRefused(
                EtcdErrors.VALUE_PROVIDED,
                () ->
                        checks.put(
                                put("k").setIgnoreValue(true)
                                        .setValue(ByteString.copyFromUtf8("v"))
                                        .build()));
        assertRefused(
                EtcdErrors.LEASE_PROVIDED,
                () -> checks.put(put("k").setIgnoreLease(true).setLease(5).build()));
        assertRefused(EtcdErrors.LEASE_NOT_FOUND, () -> checks.put(put("k").setLease(-5).build()));
        assertRefused(
                EtcdErrors.REQUEST_TOO_LARGE,
                () -> checks.put(put("k").setValue(ByteString.copyFrom(new byte[1024])).build()));
        assertDoesNotThrow(
                () -> checks.put(put("k").setValue(ByteString.copyFrom(new byte[1000])).build()));
    }

    private static TxnRequest txn(int puts, TxnRequest nested) {
        TxnRequest.Builder txn = TxnRequest.newBuilder();
        for (int i = 0; i < puts - 1; i++) {
            txn.addSuccess(RequestOp.newBuilder().setRequestPut(put("p" + i)));
        }
        return txn.addSuccess(RequestOp.newBuilder().setRequestTxn(nested)).build();
    }

    private static TxnRequest nested(int puts) {
        TxnRequest.Builder txn = TxnRequest.newBuilder();
        for (int i = 0; i < puts; i++) {
            txn.addSuccess(RequestOp.newBuilder().setRequestPut(put("n" + i)));
        }
        return txn.build();
    }

    private static Compare compare(String key) {
        return Compare.newBuilder().setKey(ByteString.copyFromUtf8(key)).build();
    }

    private static PutRequest.Builder put(String key) {
        return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key));
    }

    private static void assertRefused(EtcdError expected, Executable check) {
        assertEquals(expected, assertThrows(EtcdException.class, check).error());
    }
}
