package io.capstan.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexReplyProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.RaftServerRpcWithProxy;
import org.apache.ratis.server.protocol.RaftServerAsynchronousProtocol;
import org.apache.ratis.thirdparty.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.ratis.thirdparty.com.google.protobuf.MessageLite;
import org.apache.ratis.thirdparty.com.google.protobuf.Parser;
import org.apache.ratis.util.PeerProxyMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the transport for one Ratis server: Raft's protocol sent to the other members
 * through the {@link PeerChannels}, and the switch that lets the member's inbound routes reach this
 * server.
 *
 * <p>States (Ratis's {@code LifeCycle} in the superclass drives them): created by Ratis when it
 * builds the server → started by Ratis at the end of {@code RaftServer.start()}: binds the inbound
 * routes to the server and allows outbound requests → closed: unbinds (routes answer 503 again) and
 * refuses outbound requests. Before start and after close every outbound request fails with a
 * retryable {@link ServerNotReadyException} without touching the network, so no peer ever hears
 * from this member before Ratis started it.
 *
 * <p>Thread-safety: the running flag is volatile and written only by Ratis's start and close; the
 * calls come from Ratis's threads (election, log appenders, read index) concurrently and share
 * nothing mutable besides Ratis's own proxy map.
 */
final class WebServerRpc extends RaftServerRpcWithProxy<PeerEndpoint, PeerProxyMap<PeerEndpoint>>
        implements RaftServerAsynchronousProtocol {

    private static final Logger LOG = LoggerFactory.getLogger(WebServerRpc.class);

    private final RaftServer server;
    private final RpcType rpcType;
    private final PeerChannels carrier;
    private final InboundBinding inbound;
    private final Supplier<InetSocketAddress> advertisedAddress;
    private final Duration requestTimeout;
    private final LeaderContact leaderContact;
    private final LongSupplier nanoTime;
    private volatile boolean running;

    WebServerRpc(
            RaftServer server,
            RpcType rpcType,
            PeerChannels carrier,
            InboundBinding inbound,
            Supplier<InetSocketAddress> advertisedAddress,
            LeaderContact leaderContact,
            LongSupplier nanoTime) {
        super(server::getId, id -> PeerEndpoint.newMap(id + "-peers", carrier.scheme()));
        this.server = server;
        this.rpcType = rpcType;
        this.carrier = carrier;
        this.inbound = inbound;
        this.advertisedAddress = advertisedAddress;
        this.leaderContact = leaderContact;
        this.nanoTime = nanoTime;
        this.requestTimeout =
                Duration.ofNanos(
                        RaftServerConfigKeys.Rpc.requestTimeout(server.getProperties())
                                .toLong(TimeUnit.NANOSECONDS));
    }

    @Override
    protected void startImpl() {
        inbound.bind(server);
        running = true;
        LOG.info("{}: peer transport started; inbound routes now reach this server", getId());
    }

    @Override
    public void closeImpl() throws IOException {
        running = false;
        inbound.unbind(server);
        LOG.info("{}: peer transport closed", getId());
        super.closeImpl();
    }

    @Override
    public RpcType getRpcType() {
        return rpcType;
    }

    /** Where this member's web layer listens, as the lead wired it. */
    @Override
    public InetSocketAddress getInetSocketAddress() {
        return advertisedAddress.get();
    }

    @Override
    public RaftServerAsynchronousProtocol async() {
        return this;
    }

    @Override
    public RequestVoteReplyProto requestVote(RequestVoteRequestProto request) throws IOException {
        return PeerChannels.await(
                send(
                        Operation.REQUEST_VOTE,
                        request.getServerRequest(),
                        request,
                        RequestVoteReplyProto.parser()));
    }

    @Override
    public AppendEntriesReplyProto appendEntries(AppendEntriesRequestProto request)
            throws IOException {
        return PeerChannels.await(appendEntriesAsync(request));
    }

    @Override
    public InstallSnapshotReplyProto installSnapshot(InstallSnapshotRequestProto request)
            throws IOException {
        return PeerChannels.await(
                send(
                        Operation.INSTALL_SNAPSHOT,
                        request.getServerRequest(),
                        request,
                        InstallSnapshotReplyProto.parser()));
    }

    @Override
    public StartLeaderElectionReplyProto startLeaderElection(
            StartLeaderElectionRequestProto request) throws IOException {
        return PeerChannels.await(
                send(
                        Operation.START_LEADER_ELECTION,
                        request.getServerRequest(),
                        request,
                        StartLeaderElectionReplyProto.parser()));
    }

    @Override
    public CompletableFuture<AppendEntriesReplyProto> appendEntriesAsync(
            AppendEntriesRequestProto request) {
        long sent = nanoTime.getAsLong();
        RaftPeerId follower = RaftPeerId.valueOf(request.getServerRequest().getReplyId());
        return send(
                        Operation.APPEND_ENTRIES,
                        request.getServerRequest(),
                        request,
                        AppendEntriesReplyProto.parser())
                .whenComplete(
                        (reply, failure) -> {
                            if (reply != null) {
                                leaderContact.replied(
                                        follower, request.getLeaderTerm(), sent, reply);
                            }
                        });
    }

    /** What a follower asks the leader before it serves a linearizable read. */
    @Override
    public CompletableFuture<ReadIndexReplyProto> readIndexAsync(ReadIndexRequestProto request) {
        return send(
                Operation.READ_INDEX,
                request.getServerRequest(),
                request,
                ReadIndexReplyProto.parser());
    }

    private <R> CompletableFuture<R> send(
            Operation operation,
            RaftRpcRequestProto header,
            MessageLite request,
            Parser<R> replyParser) {
        if (!running) {
            return CompletableFuture.failedFuture(
                    new ServerNotReadyException(
                            getId()
                                    + ": the peer transport is not started, "
                                    + operation.label()
                                    + " not sent"));
        }
        RaftPeerId to = RaftPeerId.valueOf(header.getReplyId());
        PeerEndpoint endpoint;
        try {
            endpoint = getProxies().getProxy(to);
        } catch (IOException | RuntimeException e) {
            // Unknown peer or a bad address: Ratis handles it like any failed request.
            return CompletableFuture.failedFuture(e);
        }
        Duration timeout = requestTimeout.plusMillis(header.getTimeoutMs());
        return carrier.call(to, endpoint.base(), operation, request.toByteArray(), timeout)
                .thenApply(body -> parse(replyParser, body, to, operation));
    }

    private static <R> R parse(
            Parser<R> parser, byte[] body, RaftPeerId from, Operation operation) {
        try {
            return parser.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new CompletionException(
                    new IOException(
                            from + " answered " + operation.label() + " with a malformed reply",
                            e));
        }
    }
}
