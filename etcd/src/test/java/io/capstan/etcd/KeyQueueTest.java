package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.grpc.Status.Code;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The queue's key arithmetic and the wording of its failures, without a cluster. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KeyQueueTest {

    @Test
    void prefixEndIsTheFirstKeyPastThePrefixAsEtcdClientsComputeIt() {
        assertEquals(bytes("lock0"), KeyQueue.prefixEnd(bytes("lock/")));
        assertEquals(
                ByteString.copyFrom(new byte[] {'b'}),
                KeyQueue.prefixEnd(ByteString.copyFrom(new byte[] {'a', (byte) 0xff})));
        assertEquals(
                ByteString.copyFrom(new byte[] {0}),
                KeyQueue.prefixEnd(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff})));
    }

    @Test
    void theFirstKeyIsTheLowestCreateRevisionUnderThePrefix() {
        var first = KeyQueue.first(bytes("e/"));
        assertEquals(bytes("e/"), first.getKey());
        assertEquals(bytes("e0"), first.getRangeEnd());
        assertEquals(io.capstan.etcd.api.RangeRequest.SortTarget.CREATE, first.getSortTarget());
        assertEquals(io.capstan.etcd.api.RangeRequest.SortOrder.ASCEND, first.getSortOrder());
        assertEquals(1, first.getLimit());
    }

    @Test
    void refusalsReachTheCallerAsEtcdsConcurrencyServersAnswerThem() {
        EtcdError leaseNotFound =
                EtcdErrors.viaClient(
                        new CompletionException(EtcdErrors.LEASE_NOT_FOUND.toException()));
        // UNKNOWN for gRPC as etcd answers it; on the gateway, the 4xx of the refusal it was.
        assertEquals(
                new EtcdError(Code.UNKNOWN, "etcdserver: requested lease not found", 404),
                leaseNotFound);
        assertEquals(
                new EtcdError(Code.UNKNOWN, "etcdserver: key is not provided", 400),
                EtcdErrors.viaClient(EtcdErrors.EMPTY_KEY.toException()));
        // A member that cannot serve now stays retryable.
        assertEquals(
                EtcdErrors.NO_LEADER, EtcdErrors.viaClient(EtcdErrors.NO_LEADER.toException()));
        assertEquals(
                EtcdErrors.ELECTION_NOT_LEADER,
                EtcdErrors.viaClient(EtcdErrors.ELECTION_NOT_LEADER.toException()));
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFromUtf8(text);
    }
}
