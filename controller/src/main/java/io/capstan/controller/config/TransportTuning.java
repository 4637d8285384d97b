package io.capstan.controller.config;

import io.capstan.transport.TransportSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The peer transport's keys, {@code capstan.transport.*}, checked on their own; with the cluster
 * secret they make a {@link TransportSettings}. Immutable.
 */
record TransportTuning(Duration requestTimeout, long maxMessageBytes, Duration connectTimeout) {

    static final String REQUEST_TIMEOUT = "capstan.transport.request-timeout";
    static final String MAX_MESSAGE_BYTES = "capstan.transport.max-message-bytes";
    static final String CONNECT_TIMEOUT = "capstan.transport.connect-timeout";

    /** The names {@link TransportSettings} uses in its messages, by key path. */
    static final Map<String, String> KEYS_BY_NAME =
            Map.of(
                    "secret", ClusterSecret.KEY,
                    "request-timeout", REQUEST_TIMEOUT,
                    "max-message-bytes", MAX_MESSAGE_BYTES,
                    "connect-timeout", CONNECT_TIMEOUT);

    /**
     * Room a peer message needs beyond the largest request it carries: an append batch keeps a MiB
     * of headroom around its entries, and a request's log entry wraps the command with ids and its
     * caller.
     */
    static final long MESSAGE_OVERHEAD_BYTES = (1L << 20) + (64L << 10);

    /**
     * Reads the transport keys; empty when any is bad (each reported to {@code r}).
     *
     * @param raft the Raft keys, if they bound: Ratis's client requests time out after {@code
     *     capstan.raft.request-timeout}, and the receiving side must not give up on a request
     *     before its sender does; the largest request must fit in a message
     */
    static Optional<TransportTuning> read(ConfigReader r, Optional<RaftTuning> raft) {
        Optional<Duration> raftRequestTimeout = raft.map(RaftTuning::requestTimeout);
        Optional<Duration> requestTimeout = r.duration(REQUEST_TIMEOUT, false);
        Optional<Long> maxMessageBytes =
                r.bytes(
                        MAX_MESSAGE_BYTES,
                        TransportSettings.MIN_MESSAGE_BYTES,
                        TransportSettings.MAX_MESSAGE_BYTES,
                        "must be a size from "
                                + (TransportSettings.MIN_MESSAGE_BYTES >> 20)
                                + "MiB to "
                                + (TransportSettings.MAX_MESSAGE_BYTES >> 30)
                                + "GiB, e.g. 8MiB");
        Optional<Duration> connectTimeout = r.duration(CONNECT_TIMEOUT, false);
        if (requestTimeout.isPresent()
                && raftRequestTimeout.isPresent()
                && requestTimeout.get().compareTo(raftRequestTimeout.get()) < 0) {
            r.problem(
                    REQUEST_TIMEOUT,
                    r.valueAt(REQUEST_TIMEOUT),
                    "must be at least "
                            + RaftTuning.REQUEST_TIMEOUT
                            + " ("
                            + Durations.text(raftRequestTimeout.get())
                            + "): the receiving side must not give up"
                            + " on a request before its sender does");
            return Optional.empty();
        }
        if (maxMessageBytes.isPresent()
                && raft.isPresent()
                && maxMessageBytes.get() < raft.get().maxRequestBytes() + MESSAGE_OVERHEAD_BYTES) {
            r.problem(
                    MAX_MESSAGE_BYTES,
                    r.valueAt(MAX_MESSAGE_BYTES),
                    "must be at least "
                            + RaftTuning.MAX_REQUEST_BYTES
                            + " ("
                            + raft.get().maxRequestBytes()
                            + " bytes) plus "
                            + (MESSAGE_OVERHEAD_BYTES >> 10)
                            + "KiB: the largest request travels to the leader in one peer"
                            + " message");
            return Optional.empty();
        }
        if (requestTimeout.isEmpty() || maxMessageBytes.isEmpty() || connectTimeout.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(
                new TransportTuning(
                        requestTimeout.get(), maxMessageBytes.get(), connectTimeout.get()));
    }

    /**
     * @throws IllegalArgumentException if the transport module refuses a value
     */
    TransportSettings settings(byte[] secret) {
        return new TransportSettings(secret, requestTimeout, maxMessageBytes, connectTimeout);
    }
}
