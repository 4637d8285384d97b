package io.capstan.etcd;

import com.google.protobuf.Message;
import io.capstan.etcd.api.AlarmRequest;
import io.capstan.etcd.api.AuthDisableRequest;
import io.capstan.etcd.api.AuthEnableRequest;
import io.capstan.etcd.api.AuthRoleAddRequest;
import io.capstan.etcd.api.AuthRoleDeleteRequest;
import io.capstan.etcd.api.AuthRoleGetRequest;
import io.capstan.etcd.api.AuthRoleGrantPermissionRequest;
import io.capstan.etcd.api.AuthRoleListRequest;
import io.capstan.etcd.api.AuthRoleRevokePermissionRequest;
import io.capstan.etcd.api.AuthStatusRequest;
import io.capstan.etcd.api.AuthUserAddRequest;
import io.capstan.etcd.api.AuthUserChangePasswordRequest;
import io.capstan.etcd.api.AuthUserDeleteRequest;
import io.capstan.etcd.api.AuthUserGetRequest;
import io.capstan.etcd.api.AuthUserGrantRoleRequest;
import io.capstan.etcd.api.AuthUserListRequest;
import io.capstan.etcd.api.AuthUserRevokeRoleRequest;
import io.capstan.etcd.api.AuthenticateRequest;
import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.DefragmentRequest;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.HashKVRequest;
import io.capstan.etcd.api.HashRequest;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseLeasesRequest;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.LeaseTimeToLiveRequest;
import io.capstan.etcd.api.MemberAddRequest;
import io.capstan.etcd.api.MemberListRequest;
import io.capstan.etcd.api.MemberPromoteRequest;
import io.capstan.etcd.api.MemberRemoveRequest;
import io.capstan.etcd.api.MemberUpdateRequest;
import io.capstan.etcd.api.MoveLeaderRequest;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.election.CampaignRequest;
import io.capstan.etcd.api.election.LeaderRequest;
import io.capstan.etcd.api.election.ProclaimRequest;
import io.capstan.etcd.api.election.ResignRequest;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.UnlockRequest;
import io.capstan.raft.KeyspaceNode;
import io.capstan.raft.Member;
import io.capstan.raft.MemberAdmin;
import io.capstan.raft.RaftSettings;
import io.capstan.web.Admission;
import io.capstan.web.Gate;
import io.capstan.web.Route;
import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.undertow.server.HttpHandler;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * etcd's v3 API over one Raft member: the gRPC services ({@link #services()}, served by an {@link
 * ApiServer}) and the same calls through etcd's JSON gateway paths on the web port ({@link
 * #gatewayRoutes}). Both go through one implementation of each call, so they answer and fail alike.
 *
 * <p>Served so far: KV (Range, Put, DeleteRange, Txn, Compact), Lease (Grant, Revoke, KeepAlive,
 * TimeToLive, Leases), Watch (with {@code /v3/watch} streaming JSON lines), Cluster (every call,
 * over Ratis membership: see {@link ClusterOperations}), Maintenance, and Lock and Election (etcd's
 * concurrency recipes run on the server: see {@link KeyQueue}), and Auth.
 *
 * <p>Auth. Users, roles and permissions are replicated state, changed through the Raft log and
 * checked where commands apply ({@link io.capstan.raft.AuthState}), so a change holds from the next
 * request on every member. A request names its user by a token (gRPC metadata {@code token}, the
 * gateway's {@code Authorization} header: {@link Callers}). Tokens are JSON Web Tokens signed with
 * a key that enabling auth creates and the log replicates ({@link AuthTokens}), rather than etcd's
 * "simple" tokens kept in one member's memory: a token works on every member, a login costs no
 * write, and there is no key file to hand out to each member and keep equal. The key is as secret
 * as the password hashes beside it, in the same snapshots.
 *
 * <p>Every answer's header carries etcd's cluster and member ids, derived from the Raft group id
 * and the id the cluster knows this member by ({@link KeyspaceNode#memberId()}), the keyspace
 * revision and the Raft term.
 *
 * <p>Threads: everything here is immutable once built. Gateway requests run on the injected
 * executor (give the {@link ApiServer} the same one for gRPC calls), and every Raft future is
 * completed there too, so no API work runs on a Ratis thread.
 */
public final class EtcdApi {

    /**
     * The admission budget of gateway calls that answer once: {@code
     * capstan.web.admission.gateway}.
     */
    public static final Admission GATEWAY = Admission.budget("gateway");

    /**
     * The admission budget of gateway calls that stay open (watch, observe, snapshot, and the waits
     * of lock and campaign), so that they never pin the places of the others: {@code
     * capstan.web.admission.gateway-streams}.
     */
    public static final Admission GATEWAY_STREAMS = Admission.budget("gateway-streams");

    private final ApiLimits limits;
    private final Executor executor;
    private final KvOperations kv;
    private final LeaseOperations leases;
    private final ClusterOperations cluster;
    private final StatusOperation status;
    private final MaintenanceOperations maintenance;
    private final SnapshotGateway snapshotGateway;
    private final WatchGateway watchGateway;
    private final LockOperations locks;
    private final ElectionOperations elections;
    private final Callers callers;
    private final AuthOperations auth;
    private final OpenStreams streams = new OpenStreams();
    private final SpaceQuota quota;
    private final List<BindableService> services;

    /**
     * @param node the member this API serves
     * @param admin the administration of its cluster, for the Cluster and Maintenance calls
     * @param raft the member's settings: group and member ids, data directory, election timeout
     * @param limits bounds on requests
     * @param executor runs API work; owned by the caller
     * @throws IllegalArgumentException if {@code raft} is not {@code node}'s settings
     */
    public EtcdApi(
            KeyspaceNode node,
            MemberAdmin admin,
            RaftSettings raft,
            ApiLimits limits,
            Executor executor) {
        this(node, admin, raft, limits, AuthSettings.DEFAULT, executor);
    }

    /**
     * @param auth how tokens and password hashes are made
     * @see #EtcdApi(KeyspaceNode, MemberAdmin, RaftSettings, ApiLimits, Executor)
     */
    public EtcdApi(
            KeyspaceNode node,
            MemberAdmin admin,
            RaftSettings raft,
            ApiLimits limits,
            AuthSettings auth,
            Executor executor) {
        this(node, admin, raft, limits, auth, SpaceQuotaSettings.OFF, executor);
    }

    /**
     * @param space when this member raises etcd's NOSPACE alarm and refuses writes that add data
     *     (see {@link SpaceQuota}); it looks periodically between {@link #startSpaceChecks} and
     *     {@link #stopSpaceChecks}
     * @see #EtcdApi(KeyspaceNode, MemberAdmin, RaftSettings, ApiLimits, AuthSettings, Executor)
     */
    public EtcdApi(
            KeyspaceNode node,
            MemberAdmin admin,
            RaftSettings raft,
            ApiLimits limits,
            AuthSettings auth,
            SpaceQuotaSettings space,
            Executor executor) {
        Objects.requireNonNull(node, "node");
        if (!node.nodeId().equals(raft.nodeId())) {
            throw new IllegalArgumentException(
                    "settings are for member " + raft.nodeId() + ", the node is " + node.nodeId());
        }
        this.limits = Objects.requireNonNull(limits, "limits");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.quota = new SpaceQuota(node, raft.dataDir(), space);
        RaftCalls calls =
                new RaftCalls(
                        node,
                        Objects.requireNonNull(admin, "admin"),
                        Member.clusterId(raft.groupId()),
                        executor,
                        quota);
        this.kv = new KvOperations(calls, new RequestChecks(limits));
        this.leases =
                new LeaseOperations(
                        calls, LeaseOperations.minTtlSeconds(raft.electionTimeoutMax()));
        this.cluster = new ClusterOperations(calls);
        this.status = new StatusOperation(calls, raft.dataDir(), executor);
        this.maintenance = new MaintenanceOperations(calls);
        this.snapshotGateway =
                new SnapshotGateway(maintenance::openSnapshot, calls, executor, streams);
        this.watchGateway = new WatchGateway(node::watch, calls, executor, streams);
        KeyQueue queue = new KeyQueue(kv, leases, node::watch, calls, executor, streams);
        this.locks = new LockOperations(queue, kv);
        this.elections = new ElectionOperations(queue, kv, node::watch, calls, executor, streams);
        AuthTokens tokens = new AuthTokens(auth.tokenTtl(), Clock.systemUTC());
        this.callers = new Callers(node::auth, tokens);
        this.auth =
                new AuthOperations(
                        calls,
                        new Passwords(auth.bcryptCost()),
                        tokens,
                        auth.authenticatePerSecond());
        ServerInterceptor identify = callers.interceptor();
        this.services =
                Stream.<BindableService>of(
                                new KvService(kv),
                                new LeaseService(leases, streams),
                                new ClusterService(cluster),
                                new MaintenanceService(
                                        status, maintenance, calls, executor, streams),
                                new WatchService(
                                        node::watch, calls, limits.maxWatchesPerStream(), streams),
                                new LockService(locks),
                                new ElectionService(elections),
                                new AuthService(this.auth))
                        .<BindableService>map(
                                service -> () -> ServerInterceptors.intercept(service, identify))
                        .toList();
    }

    /** Starts the periodic look at the data directory's free space; call once Raft runs. */
    public void startSpaceChecks() {
        quota.start();
    }

    /** Stops the periodic look; idempotent. */
    public void stopSpaceChecks() {
        quota.close();
    }

    /** The gRPC services, the same instances on every call. */
    public List<BindableService> services() {
        return services;
    }

    /**
     * Ends every call that lasts until its client ends it, over gRPC and the gateway (Watch,
     * LeaseKeepAlive, Observe and Snapshot streams, Lock and Campaign waits), with etcd's {@code
     * etcdserver: server stopped} (UNAVAILABLE), and every such call that begins afterwards at
     * once; etcd clients then reconnect and resume. Call when the member stops, once its listeners
     * take no new calls and before waiting for the calls in flight. Returns without waiting;
     * idempotent.
     */
    public void endStreams() {
        streams.stop();
    }

    /**
     * etcd's JSON gateway paths (POST, as etcd serves them, older {@code /v3/kv/lease/...} aliases
     * included), each gated by {@code owner}, limited to a body that can hold the largest request
     * {@link ApiLimits} admits, and admitted through {@link #GATEWAY} or, for calls that stay open,
     * {@link #GATEWAY_STREAMS}. {@code /v3/lock/lock} and {@code /v3/election/campaign} answer once
     * the caller's turn comes; an HTTP client that leaves meanwhile gives its admission place back,
     * but its wait is not cancelled: its key stays queued until its lease ends (a cancelled gRPC
     * call leaves none).
     */
    public List<Route> gatewayRoutes(Gate owner) {
        List<Route> routes = new ArrayList<>();
        routes.add(
                route(owner, "/v3/kv/range", unary(RangeRequest.getDefaultInstance(), kv::range)));
        routes.add(route(owner, "/v3/kv/put", unary(PutRequest.getDefaultInstance(), kv::put)));
        routes.add(
                route(
                        owner,
                        "/v3/kv/deleterange",
                        unary(DeleteRangeRequest.getDefaultInstance(), kv::deleteRange)));
        routes.add(route(owner, "/v3/kv/txn", unary(TxnRequest.getDefaultInstance(), kv::txn)));
        routes.add(
                route(
                        owner,
                        "/v3/kv/compaction",
                        unary(CompactionRequest.getDefaultInstance(), kv::compact)));
        routes.add(
                route(
                        owner,
                        "/v3/lease/grant",
                        unary(LeaseGrantRequest.getDefaultInstance(), leases::grant)));
        HttpHandler revoke = unary(LeaseRevokeRequest.getDefaultInstance(), leases::revoke);
        routes.add(route(owner, "/v3/lease/revoke", revoke));
        routes.add(route(owner, "/v3/kv/lease/revoke", revoke));
        routes.add(
                route(
                        owner,
                        "/v3/lease/keepalive",
                        GatewayHandler.streamed(
                                LeaseKeepAliveRequest.getDefaultInstance(),
                                leases::keepAlive,
                                executor)));
        HttpHandler timeToLive =
                unary(LeaseTimeToLiveRequest.getDefaultInstance(), leases::timeToLive);
        routes.add(route(owner, "/v3/lease/timetolive", timeToLive));
        routes.add(route(owner, "/v3/kv/lease/timetolive", timeToLive));
        HttpHandler list = unary(LeaseLeasesRequest.getDefaultInstance(), leases::leases);
        routes.add(route(owner, "/v3/lease/leases", list));
        routes.add(route(owner, "/v3/kv/lease/leases", list));
        routes.add(
                route(
                        owner,
                        "/v3/maintenance/status",
                        unary(StatusRequest.getDefaultInstance(), status::status)));
        routes.add(
                route(
                        owner,
                        "/v3/maintenance/alarm",
                        unary(AlarmRequest.getDefaultInstance(), maintenance::alarm)));
        routes.add(
                route(
                        owner,
                        "/v3/maintenance/defragment",
                        unary(DefragmentRequest.getDefaultInstance(), maintenance::defragment)));
        routes.add(
                route(
                        owner,
                        "/v3/maintenance/hash",
                        unary(HashRequest.getDefaultInstance(), maintenance::hash)));
        routes.add(
                route(
                        owner,
                        "/v3/maintenance/hashkv",
                        unary(HashKVRequest.getDefaultInstance(), maintenance::hashKv)));
        routes.add(
                route(
                        owner,
                        "/v3/maintenance/transfer-leadership",
                        unary(MoveLeaderRequest.getDefaultInstance(), maintenance::moveLeader)));
        routes.add(longRoute(owner, "/v3/maintenance/snapshot", snapshotGateway));
        routes.add(longRoute(owner, "/v3/watch", watchGateway));
        routes.add(
                route(
                        owner,
                        "/v3/cluster/member/list",
                        unary(MemberListRequest.getDefaultInstance(), cluster::list)));
        routes.add(
                route(
                        owner,
                        "/v3/cluster/member/add",
                        unary(MemberAddRequest.getDefaultInstance(), cluster::add)));
        routes.add(
                route(
                        owner,
                        "/v3/cluster/member/remove",
                        unary(MemberRemoveRequest.getDefaultInstance(), cluster::remove)));
        routes.add(
                route(
                        owner,
                        "/v3/cluster/member/update",
                        unary(MemberUpdateRequest.getDefaultInstance(), cluster::update)));
        routes.add(
                route(
                        owner,
                        "/v3/cluster/member/promote",
                        unary(MemberPromoteRequest.getDefaultInstance(), cluster::promote)));
        routes.add(
                longRoute(
                        owner,
                        "/v3/lock/lock",
                        unary(LockRequest.getDefaultInstance(), locks::lock)));
        routes.add(
                route(
                        owner,
                        "/v3/lock/unlock",
                        unary(UnlockRequest.getDefaultInstance(), locks::unlock)));
        routes.add(
                longRoute(
                        owner,
                        "/v3/election/campaign",
                        unary(CampaignRequest.getDefaultInstance(), elections::campaign)));
        routes.add(
                route(
                        owner,
                        "/v3/election/proclaim",
                        unary(ProclaimRequest.getDefaultInstance(), elections::proclaim)));
        routes.add(
                route(
                        owner,
                        "/v3/election/leader",
                        unary(LeaderRequest.getDefaultInstance(), elections::leader)));
        routes.add(
                longRoute(owner, "/v3/election/observe", new ObserveGateway(elections, executor)));
        routes.add(
                route(
                        owner,
                        "/v3/election/resign",
                        unary(ResignRequest.getDefaultInstance(), elections::resign)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/enable",
                        unary(AuthEnableRequest.getDefaultInstance(), auth::enable)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/disable",
                        unary(AuthDisableRequest.getDefaultInstance(), auth::disable)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/status",
                        unary(AuthStatusRequest.getDefaultInstance(), auth::status)));
        routes.add(
                new Route(
                        "POST",
                        "/v3/auth/authenticate",
                        owner,
                        limits.maxGatewayBodyBytes(),
                        GATEWAY,
                        callers.gatewayFilter(
                                unary(AuthenticateRequest.getDefaultInstance(), auth::authenticate),
                                false)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/add",
                        unary(AuthUserAddRequest.getDefaultInstance(), auth::userAdd)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/get",
                        unary(AuthUserGetRequest.getDefaultInstance(), auth::userGet)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/list",
                        unary(AuthUserListRequest.getDefaultInstance(), auth::userList)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/delete",
                        unary(AuthUserDeleteRequest.getDefaultInstance(), auth::userDelete)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/changepw",
                        unary(
                                AuthUserChangePasswordRequest.getDefaultInstance(),
                                auth::userChangePassword)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/grant",
                        unary(AuthUserGrantRoleRequest.getDefaultInstance(), auth::userGrantRole)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/user/revoke",
                        unary(
                                AuthUserRevokeRoleRequest.getDefaultInstance(),
                                auth::userRevokeRole)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/role/add",
                        unary(AuthRoleAddRequest.getDefaultInstance(), auth::roleAdd)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/role/get",
                        unary(AuthRoleGetRequest.getDefaultInstance(), auth::roleGet)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/role/list",
                        unary(AuthRoleListRequest.getDefaultInstance(), auth::roleList)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/role/delete",
                        unary(AuthRoleDeleteRequest.getDefaultInstance(), auth::roleDelete)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/role/grant",
                        unary(
                                AuthRoleGrantPermissionRequest.getDefaultInstance(),
                                auth::roleGrantPermission)));
        routes.add(
                route(
                        owner,
                        "/v3/auth/role/revoke",
                        unary(
                                AuthRoleRevokePermissionRequest.getDefaultInstance(),
                                auth::roleRevokePermission)));
        return List.copyOf(routes);
    }

    private <Q extends Message, R extends Message> HttpHandler unary(
            Q prototype, Function<Q, CompletableFuture<R>> call) {
        return GatewayHandler.unary(prototype, call, executor);
    }

    /** A gateway path whose caller is named by the request's {@code Authorization} header. */
    private Route route(Gate owner, String path, HttpHandler handler) {
        return route(owner, path, GATEWAY, handler);
    }

    /** As {@link #route(Gate, String, HttpHandler)}, for a call that stays open. */
    private Route longRoute(Gate owner, String path, HttpHandler handler) {
        return route(owner, path, GATEWAY_STREAMS, handler);
    }

    private Route route(Gate owner, String path, Admission admission, HttpHandler handler) {
        return new Route(
                "POST",
                path,
                owner,
                limits.maxGatewayBodyBytes(),
                admission,
                callers.gatewayFilter(handler, true));
    }
}
