package io.capstan.faults;

import com.google.protobuf.ByteString;
import io.capstan.faults.history.Event;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Bytes and errors of the etcd v3 API as the workload records them. */
final class Calls {
    /**
     * Errors after which a write certainly did not happen: refused before it was proposed (too many
     * requests, a bad request, a lease that is gone). Every other error leaves a write unknown.
     */
    private static final Set<Status.Code> NOT_APPLIED =
            Set.of(
                    Status.Code.RESOURCE_EXHAUSTED,
                    Status.Code.INVALID_ARGUMENT,
                    Status.Code.FAILED_PRECONDITION,
                    Status.Code.NOT_FOUND,
                    Status.Code.PERMISSION_DENIED,
                    Status.Code.UNAUTHENTICATED,
                    Status.Code.OUT_OF_RANGE);

    private Calls() {}

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    static String string(ByteString b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /** The end of the range of every key starting with {@code prefix} ({@code ""}: every key). */
    static ByteString rangeEnd(String prefix) {
        if (prefix.isEmpty()) {
            return ByteString.copyFrom(new byte[] {0});
        }
        byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
        end[end.length - 1]++;
        return ByteString.copyFrom(end);
    }

    /** The first key of the range of {@code prefix}. */
    static ByteString rangeStart(String prefix) {
        return prefix.isEmpty() ? ByteString.copyFrom(new byte[] {0}) : bytes(prefix);
    }

    /** How a write that failed with {@code error} ended: {@code fail} or {@code unknown}. */
    static String writeOutcome(Throwable error) {
        return error instanceof StatusRuntimeException s
                        && NOT_APPLIED.contains(s.getStatus().getCode())
                ? Event.FAIL
                : Event.UNKNOWN;
    }

    static String describe(Throwable error) {
        if (error instanceof StatusRuntimeException s) {
            return s.getStatus().getCode()
                    + (s.getStatus().getDescription() == null
                            ? ""
                            : ": " + s.getStatus().getDescription());
        }
        return error.toString();
    }
}
