package io.capstan.transport;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.client.impl.RaftClientRpcWithProxy;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.GroupInfoReplyProto;
import org.apache.ratis.proto.RaftProtos.GroupListReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftClientReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoRequest;
import org.apache.ratis.protocol.GroupListRequest;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.LeaderElectionManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;

/**
 * The client side of the transport, for one Ratis {@code RaftClient}: its requests (writes, reads,
 * stale reads, watches) and administration (configuration, leadership, snapshots, groups) sent
 * through the member's {@link PeerChannels}.
 *
 * <p>Ordered async requests (Ratis's {@code async()} API) go as an operation whose receiver submits
 * each client's requests in their sequence order, because the receiver handles requests on several
 * threads, where they may overtake each other (see {@link OrderedClientRequests}); everything else
 * goes as unordered operations. As the gRPC transport does, an async reply that says "not leader"
 * or "leader not ready" fails the future with that exception, which is what Ratis's async retry
 * expects; the blocking call returns such replies for Ratis's blocking retry to read.
 *
 * <p>Creating one touches no network and needs no web server; closing it releases nothing shared
 * (the peer connections belong to the member). Thread-safety: immutable apart from Ratis's proxy
 * map; calls come from any client thread.
 */
final class WebClientRpc extends RaftClientRpcWithProxy<PeerEndpoint> {

    private final PeerChannels carrier;
    private final long maxBodyBytes;
    private final Duration requestTimeout;
    private final Duration watchTimeout;

    WebClientRpc(
            ClientId clientId, RaftProperties properties, PeerChannels carrier, long maxBodyBytes) {
        super(PeerEndpoint.newMap(clientId + "-servers", carrier.scheme()));
        this.carrier = carrier;
        this.maxBodyBytes = maxBodyBytes;
        this.requestTimeout =
                Duration.ofNanos(
                        RaftClientConfigKeys.Rpc.requestTimeout(properties)
                                .toLong(TimeUnit.NANOSECONDS));
        this.watchTimeout =
                Duration.ofNanos(
                        RaftClientConfigKeys.Rpc.watchRequestTimeout(properties)
                                .toLong(TimeUnit.NANOSECONDS));
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
        return sendAsync(request, Operation.CLIENT_ORDERED)
                .thenCompose(WebClientRpc::failOnLeaderChange);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
        return sendAsync(request, Operation.CLIENT_UNORDERED)
                .thenCompose(WebClientRpc::failOnLeaderChange);
    }

    /**
     * @throws IllegalArgumentException if the request is too large to carry; retrying cannot help
     */
    @Override
    public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
        return PeerChannels.await(send(request, checkedCall(request, Operation.CLIENT_UNORDERED)));
    }

    private CompletableFuture<RaftClientReply> sendAsync(
            RaftClientRequest request, Operation plain) {
        ClientCall call;
        try {
            call = checkedCall(request, plain);
        } catch (IllegalArgumentException e) {
            // Ratis's async retry gives up on exceptions that are not IOExceptions.
            return CompletableFuture.failedFuture(e);
        }
        return send(request, call);
    }

    private ClientCall checkedCall(RaftClientRequest request, Operation plain) {
        ClientCall call = ClientCall.of(request, plain);
        if (call.body().length > maxBodyBytes) {
            throw new IllegalArgumentException(
                    "request of "
                            + call.body().length
                            + " bytes exceeds the peer transport's limit of "
                            + maxBodyBytes
                            + " bytes: "
                            + request);
        }
        return call;
    }

    private CompletableFuture<RaftClientReply> send(RaftClientRequest request, ClientCall call) {
        RaftPeerId to = request.getServerId();
        PeerEndpoint endpoint;
        try {
            endpoint = getProxies().getProxy(to);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Duration base =
                request.is(RaftClientRequestProto.TypeCase.WATCH) ? watchTimeout : requestTimeout;
        Duration timeout = base.plusMillis(request.getTimeoutMs());
        return carrier.call(to, endpoint.base(), call.operation(), call.body(), timeout)
                .thenApply(body -> call.decode(body, to));
    }

    private static CompletableFuture<RaftClientReply> failOnLeaderChange(RaftClientReply reply) {
        RaftException leaderChange = reply.getNotLeaderException();
        if (leaderChange == null) {
            leaderChange = reply.getLeaderNotReadyException();
        }
        return leaderChange == null
                ? CompletableFuture.completedFuture(reply)
                : CompletableFuture.failedFuture(leaderChange);
    }

    /** Reads a reply body. */
    @FunctionalInterface
    private interface ReplyDecoder {
        RaftClientReply decode(byte[] body) throws InvalidProtocolBufferException;
    }

    /** One client request as the wire carries it: where it goes, its bytes, how its reply reads. */
    private record ClientCall(Operation operation, byte[] body, ReplyDecoder decoder) {

        private static final ReplyDecoder CLIENT_REPLY =
                body -> ClientProtoUtils.toRaftClientReply(RaftClientReplyProto.parseFrom(body));

        static ClientCall of(RaftClientRequest r, Operation plain) {
            if (r instanceof GroupListRequest g) {
                return new ClientCall(
                        Operation.GROUP_LIST,
                        ClientProtoUtils.toGroupListRequestProto(g).toByteArray(),
                        body ->
                                ClientProtoUtils.toGroupListReply(
                                        GroupListReplyProto.parseFrom(body)));
            }
            if (r instanceof GroupInfoRequest g) {
                return new ClientCall(
                        Operation.GROUP_INFO,
                        ClientProtoUtils.toGroupInfoRequestProto(g).toByteArray(),
                        body ->
                                ClientProtoUtils.toGroupInfoReply(
                                        GroupInfoReplyProto.parseFrom(body)));
            }
            if (r instanceof GroupManagementRequest g) {
                return withClientReply(
                        Operation.GROUP_MANAGEMENT,
                        ClientProtoUtils.toGroupManagementRequestProto(g).toByteArray());
            }
            if (r instanceof SetConfigurationRequest s) {
                return withClientReply(
                        Operation.SET_CONFIGURATION,
                        ClientProtoUtils.toSetConfigurationRequestProto(s).toByteArray());
            }
            if (r instanceof TransferLeadershipRequest t) {
                return withClientReply(
                        Operation.TRANSFER_LEADERSHIP,
                        ClientProtoUtils.toTransferLeadershipRequestProto(t).toByteArray());
            }
            if (r instanceof SnapshotManagementRequest s) {
                return withClientReply(
                        Operation.SNAPSHOT_MANAGEMENT,
                        ClientProtoUtils.toSnapshotManagementRequestProto(s).toByteArray());
            }
            if (r instanceof LeaderElectionManagementRequest l) {
                return withClientReply(
                        Operation.LEADER_ELECTION_MANAGEMENT,
                        ClientProtoUtils.toLeaderElectionManagementRequestProto(l).toByteArray());
            }
            return withClientReply(
                    plain, ClientProtoUtils.toRaftClientRequestProto(r).toByteArray());
        }

        private static ClientCall withClientReply(Operation operation, byte[] body) {
            return new ClientCall(operation, body, CLIENT_REPLY);
        }

        RaftClientReply decode(byte[] reply, RaftPeerId from) {
            try {
                return decoder.decode(reply);
            } catch (InvalidProtocolBufferException | RuntimeException e) {
                throw new CompletionException(
                        new IOException(
                                from + " answered " + operation.label() + " with a malformed reply",
                                e));
            }
        }
    }
}
