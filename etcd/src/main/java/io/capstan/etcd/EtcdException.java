package io.capstan.etcd;

/**
 * A request the etcd API refused or could not carry out, already worded as etcd would; see {@link
 * EtcdErrors}. Futures of this package fail with it, so the gRPC services and the JSON gateway only
 * translate it to their wire.
 */
final class EtcdException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient EtcdError error;

    EtcdException(EtcdError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    EtcdError error() {
        return error;
    }
}
