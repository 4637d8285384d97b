package io.capstan.etcd;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Objects;

/**
 * One etcd API error as clients see it: a gRPC status code and etcd's message, and the HTTP status
 * the JSON gateway answers it with. Immutable.
 *
 * @param code the gRPC status code
 * @param message the status message, {@code etcdserver: ...} as etcd words it
 * @param httpStatus the gateway's status: the code's ({@link EtcdErrors#httpStatus}), but a 4xx for
 *     a refusal of the request that etcd answers UNKNOWN (see {@link EtcdErrors#refusal})
 */
record EtcdError(Status.Code code, String message, int httpStatus) {

    EtcdError {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
        if (code == Status.Code.OK) {
            throw new IllegalArgumentException("an error cannot have status OK: " + message);
        }
        if (httpStatus < 400 || httpStatus > 599) {
            throw new IllegalArgumentException(
                    "an error's HTTP status is 4xx or 5xx, was " + httpStatus);
        }
    }

    /** An error whose gateway status is its code's. */
    EtcdError(Status.Code code, String message) {
        this(code, message, EtcdErrors.httpStatus(code));
    }

    StatusRuntimeException toStatusException() {
        return toStatus().asRuntimeException();
    }

    Status toStatus() {
        return code.toStatus().withDescription(message);
    }

    EtcdException toException() {
        return new EtcdException(this);
    }
}
