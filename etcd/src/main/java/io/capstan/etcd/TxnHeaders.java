package io.capstan.etcd;

import io.capstan.etcd.api.DeleteRangeResponse;
import io.capstan.etcd.api.ResponseHeader;
import io.capstan.etcd.api.ResponseOp;
import io.capstan.etcd.api.ResponseOpOrBuilder;
import io.capstan.etcd.api.TxnResponse;
import io.capstan.etcd.api.TxnResponseOrBuilder;

/**
 * The headers etcd gives the responses inside a transaction. Clients read them (a put inside a
 * transaction is often asked for its revision), and a Go client that finds none dereferences nil.
 * As in etcd, each carries only a revision, the store's revision as that operation saw it:
 *
 * <ul>
 *   <li>a put: the transaction's revision;
 *   <li>a range: the transaction's revision once an earlier operation of the transaction changed a
 *       key, else the revision before it;
 *   <li>a delete: the same, counting its own deletions as a change;
 *   <li>a nested transaction: an empty header, its own operations filled by these rules.
 * </ul>
 *
 * The revision before the transaction is the one after it, less one when any operation of the
 * branch taken changed a key (one transaction publishes one revision). Everything needed is in the
 * response, whose operations are those of the branch taken, in order.
 *
 * <p>Each instance serves one call of {@link #fill} on the calling thread and is then dropped.
 */
final class TxnHeaders {

    private final long before;

    /** Whether an operation visited so far changed a key. */
    private boolean changed;

    private TxnHeaders(long before) {
        this.before = before;
    }

    /**
     * Sets the header of every operation response in {@code response}, nested ones included.
     *
     * @param revision the store's revision after the transaction (its top-level header's)
     */
    static TxnResponse.Builder fill(TxnResponse.Builder response, long revision) {
        long before = changesKeys(response) ? revision - 1 : revision;
        new TxnHeaders(before).visit(response);
        return response;
    }

    private void visit(TxnResponse.Builder txn) {
        for (ResponseOp.Builder op : txn.getResponsesBuilderList()) {
            switch (op.getResponseCase()) {
                case RESPONSE_RANGE -> op.getResponseRangeBuilder().setHeader(seen());
                case RESPONSE_PUT -> {
                    changed = true;
                    op.getResponsePutBuilder().setHeader(seen());
                }
                case RESPONSE_DELETE_RANGE -> {
                    DeleteRangeResponse.Builder delete = op.getResponseDeleteRangeBuilder();
                    changed |= delete.getDeleted() > 0;
                    delete.setHeader(seen());
                }
                case RESPONSE_TXN -> {
                    TxnResponse.Builder nested = op.getResponseTxnBuilder();
                    nested.setHeader(ResponseHeader.getDefaultInstance());
                    visit(nested);
                }
                case RESPONSE_NOT_SET -> {
                    // An empty operation has no response to give a header to.
                }
            }
        }
    }

    private ResponseHeader seen() {
        return ResponseHeader.newBuilder().setRevision(changed ? before + 1 : before).build();
    }

    private static boolean changesKeys(TxnResponseOrBuilder txn) {
        for (ResponseOpOrBuilder op : txn.getResponsesOrBuilderList()) {
            boolean changes =
                    switch (op.getResponseCase()) {
                        case RESPONSE_PUT -> true;
                        case RESPONSE_DELETE_RANGE ->
                                op.getResponseDeleteRangeOrBuilder().getDeleted() > 0;
                        case RESPONSE_TXN -> changesKeys(op.getResponseTxnOrBuilder());
                        case RESPONSE_RANGE, RESPONSE_NOT_SET -> false;
                    };
            if (changes) {
                return true;
            }
        }
        return false;
    }
}
