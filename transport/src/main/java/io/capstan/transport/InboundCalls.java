package io.capstan.transport;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.GroupInfoRequestProto;
import org.apache.ratis.proto.RaftProtos.GroupListRequestProto;
import org.apache.ratis.proto.RaftProtos.GroupManagementRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.LeaderElectionManagementRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.SetConfigurationRequestProto;
import org.apache.ratis.proto.RaftProtos.SnapshotManagementRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.proto.RaftProtos.TransferLeadershipRequestProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;

/**
 * What each operation does on the receiving member: decode the body into the request Ratis takes,
 * call the server (which implements every protocol, mostly with async variants), encode the reply.
 * The handful of calls Ratis only offers blocking ({@code requestVote}, {@code installSnapshot},
 * {@code startLeaderElection}) run on the transport's inbound executor, never on an I/O thread.
 * Immutable.
 */
final class InboundCalls {

    /** Reads a request body; throws for a body that is not a well-formed request. */
    @FunctionalInterface
    interface Decoder<T> {
        T decode(byte[] body) throws InvalidProtocolBufferException;
    }

    /** Calls the server with a decoded request; the future holds the encoded reply. */
    @FunctionalInterface
    interface Invoker<T> {
        CompletableFuture<byte[]> invoke(RaftServer server, T request) throws IOException;
    }

    /** A decoded request, ready to hand to the server. */
    @FunctionalInterface
    interface Prepared {
        CompletableFuture<byte[]> invoke(RaftServer server) throws IOException;
    }

    /** One operation's receiving side. */
    record InboundCall<T>(Decoder<T> decoder, Invoker<T> invoker) {

        /**
         * @throws InvalidProtocolBufferException if the body is not this operation's request proto
         * @throws RuntimeException if its fields make no valid Ratis request
         */
        Prepared prepare(byte[] body) throws InvalidProtocolBufferException {
            T request = decoder.decode(body);
            return server -> invoker.invoke(server, request);
        }
    }

    private InboundCalls() {}

    static Map<Operation, InboundCall<?>> all(
            OrderedClientRequests ordered, LeaderContact leaderContact) {
        Map<Operation, InboundCall<?>> calls = new EnumMap<>(Operation.class);
        calls.put(
                Operation.REQUEST_VOTE,
                new InboundCall<>(
                        RequestVoteRequestProto::parseFrom,
                        (server, r) ->
                                CompletableFuture.completedFuture(
                                        server.requestVote(r).toByteArray())));
        calls.put(
                Operation.APPEND_ENTRIES,
                new InboundCall<>(
                        AppendEntriesRequestProto::parseFrom,
                        (server, r) ->
                                server.appendEntriesAsync(r)
                                        .thenApply(reply -> reply.toByteArray())));
        calls.put(
                Operation.INSTALL_SNAPSHOT,
                new InboundCall<>(
                        InstallSnapshotRequestProto::parseFrom,
                        (server, r) ->
                                CompletableFuture.completedFuture(
                                        server.installSnapshot(r).toByteArray())));
        calls.put(
                Operation.START_LEADER_ELECTION,
                new InboundCall<>(
                        StartLeaderElectionRequestProto::parseFrom,
                        (server, r) ->
                                CompletableFuture.completedFuture(
                                        server.startLeaderElection(r).toByteArray())));
        calls.put(
                Operation.READ_INDEX,
                new InboundCall<>(
                        ReadIndexRequestProto::parseFrom,
                        (server, r) -> readIndex(server, r, leaderContact)));

        calls.put(
                Operation.CLIENT_ORDERED,
                new InboundCall<>(
                        InboundCalls::clientRequest,
                        (server, r) ->
                                encoded(ordered.submit(r, server::submitClientRequestAsync))));
        calls.put(
                Operation.CLIENT_UNORDERED,
                new InboundCall<>(
                        InboundCalls::clientRequest,
                        (server, r) -> encoded(server.submitClientRequestAsync(r))));

        calls.put(
                Operation.SET_CONFIGURATION,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toSetConfigurationRequest(
                                        SetConfigurationRequestProto.parseFrom(body)),
                        (server, r) -> encoded(server.setConfigurationAsync(r))));
        calls.put(
                Operation.TRANSFER_LEADERSHIP,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toTransferLeadershipRequest(
                                        TransferLeadershipRequestProto.parseFrom(body)),
                        (server, r) -> encoded(server.transferLeadershipAsync(r))));
        calls.put(
                Operation.SNAPSHOT_MANAGEMENT,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toSnapshotManagementRequest(
                                        SnapshotManagementRequestProto.parseFrom(body)),
                        (server, r) -> encoded(server.snapshotManagementAsync(r))));
        calls.put(
                Operation.LEADER_ELECTION_MANAGEMENT,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toLeaderElectionManagementRequest(
                                        LeaderElectionManagementRequestProto.parseFrom(body)),
                        (server, r) -> encoded(server.leaderElectionManagementAsync(r))));
        calls.put(
                Operation.GROUP_MANAGEMENT,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toGroupManagementRequest(
                                        GroupManagementRequestProto.parseFrom(body)),
                        (server, r) -> encoded(server.groupManagementAsync(r))));
        calls.put(
                Operation.GROUP_LIST,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toGroupListRequest(
                                        GroupListRequestProto.parseFrom(body)),
                        (server, r) ->
                                server.getGroupListAsync(r)
                                        .thenApply(
                                                reply ->
                                                        ClientProtoUtils.toGroupListReplyProto(
                                                                        reply)
                                                                .toByteArray())));
        calls.put(
                Operation.GROUP_INFO,
                new InboundCall<>(
                        body ->
                                ClientProtoUtils.toGroupInfoRequest(
                                        GroupInfoRequestProto.parseFrom(body)),
                        (server, r) ->
                                server.getGroupInfoAsync(r)
                                        .thenApply(
                                                reply ->
                                                        ClientProtoUtils.toGroupInfoReplyProto(
                                                                        reply)
                                                                .toByteArray())));
        return calls;
    }

    /**
     * A follower's ReadIndex request: the leader first proves it still leads ({@link
     * LeaderContact}), since Ratis's answer alone may not have heard from a majority; a member that
     * does not lead leaves the answer (not the leader, try that one) to Ratis.
     */
    private static CompletableFuture<byte[]> readIndex(
            RaftServer server, ReadIndexRequestProto request, LeaderContact leaderContact)
            throws IOException {
        RaftServer.Division division =
                server.getDivision(
                        RaftGroupId.valueOf(request.getServerRequest().getRaftGroupId().getId()));
        return leaderContact
                .confirm(division)
                .handle((index, failure) -> failure)
                .thenCompose(
                        failure -> {
                            Throwable cause = PeerWire.unwrap(failure);
                            if (cause != null && !(cause instanceof NotLeaderException)) {
                                return CompletableFuture.failedFuture(cause);
                            }
                            try {
                                return server.readIndexAsync(request)
                                        .thenApply(reply -> reply.toByteArray());
                            } catch (IOException e) {
                                return CompletableFuture.failedFuture(e);
                            }
                        });
    }

    private static RaftClientRequest clientRequest(byte[] body)
            throws InvalidProtocolBufferException {
        return ClientProtoUtils.toRaftClientRequest(RaftClientRequestProto.parseFrom(body));
    }

    private static CompletableFuture<byte[]> encoded(CompletableFuture<RaftClientReply> reply) {
        return reply.thenApply(r -> ClientProtoUtils.toRaftClientReplyProto(r).toByteArray());
    }
}
