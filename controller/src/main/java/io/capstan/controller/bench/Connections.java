package io.capstan.controller.bench;

import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.StatusResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The gRPC connections (channels, one TCP connection each) a benchmark's clients share: all to the
 * leader, or spread over every endpoint in turn. Plaintext; callbacks run on the transport's own
 * threads ({@code directExecutor}), which is where the closed loop starts each next call.
 *
 * <p>Threads: opened and closed by the command's thread; the channels themselves are thread-safe.
 */
final class Connections implements AutoCloseable {
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    /** Range answers of the benchmark are small; this only guards against a surprise. */
    private static final int MAX_INBOUND_BYTES = 16 << 20;

    /** The endpoints could not be reached, or none of them leads; nothing stays open. */
    static final class SetupException extends Exception {
        SetupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final List<ManagedChannel> channels;
    private final List<Endpoint> targets;

    private Connections(List<ManagedChannel> channels, List<Endpoint> targets) {
        this.channels = channels;
        this.targets = targets;
    }

    /**
     * Asks every endpoint for its Maintenance.Status, then opens {@code count} connections: each to
     * the endpoint that leads, or with {@code spread} to the endpoints in turn.
     *
     * @throws SetupException when an endpoint does not answer within {@code timeout}, or, unless
     *     {@code spread}, when no endpoint is the leader the others name
     */
    static Connections open(List<Endpoint> endpoints, int count, boolean spread, Duration timeout)
            throws SetupException {
        Map<Endpoint, StatusResponse> statuses = statuses(endpoints, timeout);
        List<Endpoint> targets = new ArrayList<>();
        Endpoint leader = spread ? null : leaderOf(statuses);
        for (int i = 0; i < count; i++) {
            targets.add(spread ? endpoints.get(i % endpoints.size()) : leader);
        }
        List<ManagedChannel> channels = new ArrayList<>();
        for (Endpoint target : targets) {
            channels.add(channel(target));
        }
        return new Connections(List.copyOf(channels), List.copyOf(targets));
    }

    /** The endpoint whose member id is the leader every answering member names. */
    static Endpoint leaderOf(Map<Endpoint, StatusResponse> statuses) throws SetupException {
        Map<Long, Endpoint> byMember = new LinkedHashMap<>();
        statuses.forEach(
                (endpoint, status) -> byMember.put(status.getHeader().getMemberId(), endpoint));
        List<Long> named =
                statuses.values().stream().map(StatusResponse::getLeader).distinct().toList();
        if (named.size() != 1 || named.get(0) == 0) {
            throw new SetupException(
                    "the endpoints do not agree on one leader; they name "
                            + describe(
                                    statuses, (b, s) -> b.append(Long.toHexString(s.getLeader()))),
                    null);
        }
        Endpoint leader = byMember.get(named.get(0));
        if (leader == null) {
            String members =
                    describe(
                            statuses,
                            (b, s) ->
                                    b.append("member ")
                                            .append(Long.toHexString(s.getHeader().getMemberId())));
            throw new SetupException(
                    "the leader, member "
                            + Long.toHexString(named.get(0))
                            + ", is none of the endpoints "
                            + members,
                    null);
        }
        return leader;
    }

    /** Connection {@code index} modulo the number open. */
    ManagedChannel channel(int index) {
        return channels.get(index % channels.size());
    }

    /** Where each connection goes, in order. */
    List<Endpoint> targets() {
        return targets;
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        for (ManagedChannel channel : channels) {
            try {
                channel.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Map<Endpoint, StatusResponse> statuses(
            List<Endpoint> endpoints, Duration timeout) throws SetupException {
        Map<Endpoint, StatusResponse> statuses = new LinkedHashMap<>();
        for (Endpoint endpoint : endpoints) {
            ManagedChannel channel = channel(endpoint);
            try {
                statuses.put(
                        endpoint,
                        MaintenanceGrpc.newBlockingStub(channel)
                                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                                .status(StatusRequest.getDefaultInstance()));
            } catch (StatusRuntimeException e) {
                throw new SetupException(
                        "endpoint "
                                + endpoint
                                + " did not answer Maintenance.Status: "
                                + e.getStatus(),
                        e);
            } finally {
                channel.shutdownNow();
            }
        }
        return statuses;
    }

    private static String describe(
            Map<Endpoint, StatusResponse> statuses,
            BiConsumer<StringBuilder, StatusResponse> what) {
        StringBuilder text = new StringBuilder();
        statuses.forEach(
                (endpoint, status) -> {
                    text.append(text.length() == 0 ? "" : ", ").append(endpoint).append(": ");
                    what.accept(text, status);
                });
        return text.toString();
    }

    private static ManagedChannel channel(Endpoint endpoint) {
        return NettyChannelBuilder.forAddress(endpoint.host(), endpoint.port())
                .usePlaintext()
                .directExecutor()
                .maxInboundMessageSize(MAX_INBOUND_BYTES)
                .build();
    }

    /** A unary call's answer as a future; pass it as the call's response observer. */
    static final class Answer<T> extends CompletableFuture<T> implements StreamObserver<T> {
        private T value;

        @Override
        public void onNext(T next) {
            value = next;
        }

        @Override
        public void onError(Throwable t) {
            completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            complete(value);
        }
    }
}
