package io.capstan.controller.etcd;

import com.google.protobuf.Message;
import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseLeasesRequest;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.LeaseTimeToLiveRequest;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.raft.RaftNode;
import io.capstan.raft.RaftSettings;
import io.capstan.web.Gate;
import io.capstan.web.Route;
import io.grpc.BindableService;
import io.undertow.server.HttpHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * etcd's v3 API over one Raft member: the gRPC services ({@link #services()}, served by an
 * {@link ApiServer}) and the same calls through etcd's JSON gateway paths on the web port
 * ({@link #gatewayRoutes}). Both go through one implementation of each call, so they answer and
 * fail alike.
 *
 * <p>Served so far: KV (Range, Put, DeleteRange, Txn, Compact), Lease (Grant, Revoke, KeepAlive,
 * TimeToLive, Leases), Watch (with {@code /v3/watch} streaming JSON lines) and Maintenance.Status;
 * the other Maintenance methods answer UNIMPLEMENTED. Cluster and the rest of Maintenance join
 * {@link #services()} and the gateway here.
 *
 * <p>Every answer's header carries etcd's cluster and member ids, derived from the Raft group id
 * and this member's id (see {@code ClusterIdentity}), the keyspace revision and the Raft term.
 *
 * <p>Threads: everything here is immutable once built. Gateway requests run on the injected
 * executor (give the {@link ApiServer} the same one for gRPC calls), and every Raft future is
 * completed there too, so no API work runs on a Ratis thread.
 */
public final class EtcdApi {

    private final ApiLimits limits;
    private final Executor executor;
    private final KvOperations kv;
    private final LeaseOperations leases;
    private final StatusOperation status;
    private final WatchGateway watchGateway;
    private final List<BindableService> services;

    /**
     * @param node the member this API serves
     * @param raft the member's settings: group and member ids, data directory, election timeout
     * @param limits bounds on requests
     * @param executor runs API work; owned by the caller
     * @throws IllegalArgumentException if {@code raft} is not {@code node}'s settings
     */
    public EtcdApi(RaftNode node, RaftSettings raft, ApiLimits limits, Executor executor) {
        Objects.requireNonNull(node, "node");
        if (!node.nodeId().equals(raft.nodeId())) {
            throw new IllegalArgumentException("settings are for member " + raft.nodeId()
                    + ", the node is " + node.nodeId());
        }
        this.limits = Objects.requireNonNull(limits, "limits");
        this.executor = Objects.requireNonNull(executor, "executor");
        RaftCalls calls = new RaftCalls(node, ClusterIdentity.of(raft), executor);
        this.kv = new KvOperations(calls, new RequestChecks(limits));
        this.leases = new LeaseOperations(calls, LeaseOperations.minTtlSeconds(raft.electionTimeoutMax()));
        this.status = new StatusOperation(calls, raft.dataDir(), executor);
        this.watchGateway = new WatchGateway(node::watch, calls, executor);
        this.services = List.of(new KvService(kv), new LeaseService(leases), new MaintenanceService(status),
                new WatchService(node::watch, calls));
    }

    /** The gRPC services, the same instances on every call. */
    public List<BindableService> services() {
        return services;
    }

    /**
     * etcd's JSON gateway paths (POST, as etcd serves them, older {@code /v3/kv/lease/...} aliases
     * included), each gated by {@code owner} and limited to a body that can hold the largest
     * request {@link ApiLimits} admits.
     */
    public List<Route> gatewayRoutes(Gate owner) {
        List<Route> routes = new ArrayList<>();
        routes.add(route(owner, "/v3/kv/range", unary(RangeRequest.getDefaultInstance(), kv::range)));
        routes.add(route(owner, "/v3/kv/put", unary(PutRequest.getDefaultInstance(), kv::put)));
        routes.add(route(owner, "/v3/kv/deleterange", unary(DeleteRangeRequest.getDefaultInstance(), kv::deleteRange)));
        routes.add(route(owner, "/v3/kv/txn", unary(TxnRequest.getDefaultInstance(), kv::txn)));
        routes.add(route(owner, "/v3/kv/compaction", unary(CompactionRequest.getDefaultInstance(), kv::compact)));
        routes.add(route(owner, "/v3/lease/grant", unary(LeaseGrantRequest.getDefaultInstance(), leases::grant)));
        HttpHandler revoke = unary(LeaseRevokeRequest.getDefaultInstance(), leases::revoke);
        routes.add(route(owner, "/v3/lease/revoke", revoke));
        routes.add(route(owner, "/v3/kv/lease/revoke", revoke));
        routes.add(route(owner, "/v3/lease/keepalive",
                GatewayHandler.streamed(LeaseKeepAliveRequest.getDefaultInstance(), leases::keepAlive, executor)));
        HttpHandler timeToLive = unary(LeaseTimeToLiveRequest.getDefaultInstance(), leases::timeToLive);
        routes.add(route(owner, "/v3/lease/timetolive", timeToLive));
        routes.add(route(owner, "/v3/kv/lease/timetolive", timeToLive));
        HttpHandler list = unary(LeaseLeasesRequest.getDefaultInstance(), leases::leases);
        routes.add(route(owner, "/v3/lease/leases", list));
        routes.add(route(owner, "/v3/kv/lease/leases", list));
        routes.add(route(owner, "/v3/maintenance/status", unary(StatusRequest.getDefaultInstance(), status::status)));
        routes.add(route(owner, "/v3/watch", watchGateway));
        return List.copyOf(routes);
    }

    private <Q extends Message, R extends Message> HttpHandler unary(Q prototype, Function<Q, CompletableFuture<R>> call) {
        return GatewayHandler.unary(prototype, call, executor);
    }

    private Route route(Gate owner, String path, HttpHandler handler) {
        return new Route("POST", path, owner, limits.maxGatewayBodyBytes(), handler);
    }
}
