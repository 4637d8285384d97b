package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.InvalidCommandException;
import io.capstan.raft.InvalidCommandException.Reason;
import io.capstan.raft.KeyspaceException;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.proto.Failure;
import io.grpc.Status.Code;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every way the Raft node can refuse or fail maps to the error etcd returns in that case, and every
 * gRPC code to the HTTP status etcd's gateway answers with. The cluster tests see the common ones
 * end to end; this covers the whole table, the rare ones included.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EtcdErrorsTest {

    private static final NodeStatus FOLLOWER =
            new NodeStatus("n1", NodeStatus.Role.FOLLOWER, 3, Optional.of("n0"), 9, 9);
    private static final NodeStatus LEADERLESS =
            new NodeStatus("n1", NodeStatus.Role.CANDIDATE, 4, Optional.empty(), 9, 9);
    private static final NodeStatus STOPPED =
            new NodeStatus("n1", NodeStatus.Role.STOPPED, 0, Optional.empty(), 0, 0);

    @Test
    void everyRefusalBeforeProposingHasEtcdsError() {
        Map<Reason, EtcdError> expected = new EnumMap<>(Reason.class);
        expected.put(
                Reason.EMPTY_KEY,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: key is not provided"));
        expected.put(
                Reason.KEY_TOO_LARGE,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: request is too large"));
        expected.put(
                Reason.VALUE_TOO_LARGE,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: request is too large"));
        expected.put(
                Reason.REQUEST_TOO_LARGE,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: request is too large"));
        expected.put(
                Reason.TOO_MANY_OPS,
                new EtcdError(
                        Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"));
        expected.put(
                Reason.DUPLICATE_KEY,
                new EtcdError(
                        Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"));
        expected.put(
                Reason.VALUE_PROVIDED,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: value is provided"));
        expected.put(
                Reason.LEASE_PROVIDED,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: lease is provided"));
        expected.put(
                Reason.TTL_TOO_LARGE,
                new EtcdError(Code.OUT_OF_RANGE, "etcdserver: too large lease TTL"));
        expected.put(
                Reason.MALFORMED,
                new EtcdError(
                        Code.INVALID_ARGUMENT,
                        "etcdserver: range.limit must not be negative, got -1"));

        for (Reason reason : Reason.values()) {
            InvalidCommandException refusal =
                    new InvalidCommandException(reason, "range.limit must not be negative, got -1");
            assertEquals(
                    expected.get(reason),
                    EtcdErrors.fromRaft(new CompletionException(refusal), FOLLOWER).error(),
                    reason.name());
        }
    }

    @Test
    void everyRefusalOfTheKeyspaceHasEtcdsError() {
        Map<Failure.Code, EtcdError> expected = new EnumMap<>(Failure.Code.class);
        expected.put(
                Failure.Code.COMPACTED,
                new EtcdError(
                        Code.OUT_OF_RANGE,
                        "etcdserver: mvcc: required revision has been compacted"));
        expected.put(
                Failure.Code.FUTURE_REVISION,
                new EtcdError(
                        Code.OUT_OF_RANGE,
                        "etcdserver: mvcc: required revision is a future revision"));
        expected.put(
                Failure.Code.LEASE_NOT_FOUND,
                new EtcdError(Code.NOT_FOUND, "etcdserver: requested lease not found"));
        expected.put(
                Failure.Code.LEASE_EXISTS,
                new EtcdError(Code.FAILED_PRECONDITION, "etcdserver: lease already exists"));
        expected.put(
                Failure.Code.KEY_NOT_FOUND,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: key not found"));
        expected.put(
                Failure.Code.INVALID,
                new EtcdError(Code.INVALID_ARGUMENT, "etcdserver: command is empty"));

        expected.forEach(
                (code, error) -> {
                    KeyspaceException refusal =
                            new KeyspaceException(
                                    Failure.newBuilder()
                                            .setCode(code)
                                            .setMessage("command is empty")
                                            .build());
                    assertEquals(
                            error,
                            EtcdErrors.fromRaft(new CompletionException(refusal), FOLLOWER).error(),
                            code.name());
                });
    }

    @Test
    void failuresOfTheClusterAreUnavailableWithTheReason() {
        assertEquals(
                EtcdErrors.NO_LEADER,
                EtcdErrors.fromRaft(new TimeoutException(), LEADERLESS).error());
        assertEquals(
                EtcdErrors.NO_LEADER,
                EtcdErrors.fromRaft(new IOException("retries exhausted"), LEADERLESS).error());
        assertEquals(
                EtcdErrors.TIMEOUT, EtcdErrors.fromRaft(new TimeoutException(), FOLLOWER).error());
        assertEquals(
                EtcdErrors.STOPPED,
                EtcdErrors.fromRaft(new IllegalStateException("not RUNNING"), STOPPED).error());
        assertEquals(
                EtcdErrors.NO_LEADER,
                EtcdErrors.fromRaft(new AlreadyClosedException("client->n2 is closed"), LEADERLESS)
                        .error());
        assertEquals(
                EtcdErrors.TOO_MANY_REQUESTS,
                EtcdErrors.fromRaft(new ResourceUnavailableException("pending requests"), FOLLOWER)
                        .error());
        assertEquals(
                new EtcdError(Code.UNAVAILABLE, "etcdserver: no leader"), EtcdErrors.NO_LEADER);
        assertEquals(
                new EtcdError(Code.RESOURCE_EXHAUSTED, "etcdserver: too many requests"),
                EtcdErrors.TOO_MANY_REQUESTS);
    }

    @Test
    void aBugIsUnknownAndNamesItself() {
        EtcdError error = EtcdErrors.of(new CompletionException(new NullPointerException("boom")));
        assertEquals(Code.UNKNOWN, error.code());
        assertTrue(error.message().contains("NullPointerException: boom"), error.message());
    }

    @Test
    void gatewayStatusesFollowGrpcGateway() {
        assertEquals(400, EtcdErrors.httpStatus(Code.INVALID_ARGUMENT));
        assertEquals(400, EtcdErrors.httpStatus(Code.OUT_OF_RANGE));
        assertEquals(400, EtcdErrors.httpStatus(Code.FAILED_PRECONDITION));
        assertEquals(404, EtcdErrors.httpStatus(Code.NOT_FOUND));
        assertEquals(429, EtcdErrors.httpStatus(Code.RESOURCE_EXHAUSTED));
        assertEquals(501, EtcdErrors.httpStatus(Code.UNIMPLEMENTED));
        assertEquals(503, EtcdErrors.httpStatus(Code.UNAVAILABLE));
        assertEquals(504, EtcdErrors.httpStatus(Code.DEADLINE_EXCEEDED));
        assertEquals(500, EtcdErrors.httpStatus(Code.UNKNOWN));
    }
}
