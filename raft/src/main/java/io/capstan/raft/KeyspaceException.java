package io.capstan.raft;

import io.capstan.raft.proto.Failure;

/**
 * A command or read that the keyspace refused in its current state: a compacted or future revision,
 * a missing or duplicate lease, a missing key for {@code ignore_value}/{@code ignore_lease}.
 * Nothing was changed. {@link #compactRevision()} tells a client where readable history starts.
 */
public final class KeyspaceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Failure.Code code;
    private final long compactRevision;

    public KeyspaceException(Failure failure) {
        super(failure.getMessage());
        this.code = failure.getCode();
        this.compactRevision = failure.getCompactRevision();
    }

    public Failure.Code code() {
        return code;
    }

    /** With {@link Failure.Code#COMPACTED}: the oldest revision still readable; otherwise 0. */
    public long compactRevision() {
        return compactRevision;
    }

    Failure toFailure() {
        return Failure.newBuilder()
                .setCode(code)
                .setMessage(getMessage())
                .setCompactRevision(compactRevision)
                .build();
    }

    static KeyspaceException compacted(long requested, long compactRevision) {
        return new KeyspaceException(
                Failure.newBuilder()
                        .setCode(Failure.Code.COMPACTED)
                        .setMessage(
                                "required revision "
                                        + requested
                                        + " has been compacted; oldest readable is "
                                        + compactRevision)
                        .setCompactRevision(compactRevision)
                        .build());
    }

    static KeyspaceException futureRevision(long requested, long current) {
        return of(
                Failure.Code.FUTURE_REVISION,
                "required revision " + requested + " is a future revision; current is " + current);
    }

    static KeyspaceException of(Failure.Code code, String message) {
        return new KeyspaceException(
                Failure.newBuilder().setCode(code).setMessage(message).build());
    }
}
