package io.capstan.etcd;

import com.google.protobuf.MessageLite;
import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;

/**
 * etcd's own checks of KV requests, in etcd's order and with etcd's errors, made before a request
 * goes to the Raft node (whose validator then applies Capstan's size and shape rules, and finds
 * duplicate keys in a transaction). Each method throws {@link EtcdException} on the first problem.
 * Stateless apart from the immutable limits; safe on any thread.
 */
final class RequestChecks {

    private final ApiLimits limits;

    RequestChecks(ApiLimits limits) {
        this.limits = limits;
    }

    void range(RangeRequest request) {
        rangeFields(request);
        size(request);
    }

    void put(PutRequest request) {
        putFields(request);
        size(request);
    }

    void deleteRange(DeleteRangeRequest request) {
        deleteFields(request);
        size(request);
    }

    void txn(TxnRequest request) {
        txnFields(request, limits.maxTxnOps());
        size(request);
    }

    private void size(MessageLite request) {
        if (request.getSerializedSize() > limits.maxRequestBytes()) {
            throw EtcdErrors.REQUEST_TOO_LARGE.toException();
        }
    }

    private static void rangeFields(RangeRequest request) {
        if (request.getKey().isEmpty()) {
            throw EtcdErrors.EMPTY_KEY.toException();
        }
    }

    private static void putFields(PutRequest request) {
        if (request.getKey().isEmpty()) {
            throw EtcdErrors.EMPTY_KEY.toException();
        }
        if (request.getIgnoreValue() && !request.getValue().isEmpty()) {
            throw EtcdErrors.VALUE_PROVIDED.toException();
        }
        if (request.getIgnoreLease() && request.getLease() != 0) {
            throw EtcdErrors.LEASE_PROVIDED.toException();
        }
        // No lease has a negative id, so etcd finds none.
        if (request.getLease() < 0) {
            throw EtcdErrors.LEASE_NOT_FOUND.toException();
        }
    }

    private static void deleteFields(DeleteRangeRequest request) {
        if (request.getKey().isEmpty()) {
            throw EtcdErrors.EMPTY_KEY.toException();
        }
    }

    /** As etcd: a nested transaction may use what its parent's widest list left of the budget. */
    private static void txnFields(TxnRequest request, int budget) {
        int ops =
                Math.max(
                        request.getCompareCount(),
                        Math.max(request.getSuccessCount(), request.getFailureCount()));
        if (ops > budget) {
            throw EtcdErrors.TOO_MANY_OPS.toException();
        }
        for (Compare compare : request.getCompareList()) {
            if (compare.getKey().isEmpty()) {
                throw EtcdErrors.EMPTY_KEY.toException();
            }
        }
        for (RequestOp op : request.getSuccessList()) {
            op(op, budget - ops);
        }
        for (RequestOp op : request.getFailureList()) {
            op(op, budget - ops);
        }
    }

    private static void op(RequestOp op, int budget) {
        switch (op.getRequestCase()) {
            case REQUEST_RANGE -> rangeFields(op.getRequestRange());
            case REQUEST_PUT -> putFields(op.getRequestPut());
            case REQUEST_DELETE_RANGE -> deleteFields(op.getRequestDeleteRange());
            case REQUEST_TXN -> txnFields(op.getRequestTxn(), budget);
            // etcd's answer to an empty operation.
            case REQUEST_NOT_SET -> throw EtcdErrors.KEY_NOT_FOUND.toException();
        }
    }
}
