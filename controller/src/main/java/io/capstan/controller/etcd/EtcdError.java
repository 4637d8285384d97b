package io.capstan.controller.etcd;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Objects;

/**
 * One etcd API error as clients see it: a gRPC status code and etcd's message. Immutable.
 *
 * @param code the gRPC status code
 * @param message the status message, {@code etcdserver: ...} as etcd words it
 */
record EtcdError(Status.Code code, String message) {

    EtcdError {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
        if (code == Status.Code.OK) {
            throw new IllegalArgumentException("an error cannot have status OK: " + message);
        }
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
