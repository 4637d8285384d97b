/**
 * etcd's v3 API over Capstan's Raft node: the KV, Lease, Watch, Maintenance, Lock and Election gRPC
 * services and etcd's JSON gateway paths, so that etcd clients work unchanged.
 *
 * <h2>Where it sits</h2>
 *
 * This is the {@code capstan-etcd} module. It uses the Raft module (a {@link
 * io.capstan.raft.KeyspaceNode} it proposes to, queries and watches, the {@link
 * io.capstan.raft.MemberAdmin} of its cluster for the Cluster and Maintenance calls, the command
 * and query messages) and the web module (gateway routes, admission, request context), and nothing
 * else of Capstan: the daemon ({@code capstan-controller}) builds it, binds its settings from
 * configuration, and starts and stops it. The etcd protos are in {@code src/main/proto}; their
 * messages and gRPC stubs are generated into {@code io.capstan.etcd.api} and its subpackages, which
 * clients (the benchmark, the fault harness) use too.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.etcd.EtcdApi} (services and gateway routes of one member), {@link
 * io.capstan.etcd.ApiServer} (the gRPC listener), {@link io.capstan.etcd.GrpcAdmission} (the
 * admission of gRPC calls), and the plain settings records the daemon binds: {@link
 * io.capstan.etcd.ApiLimits}, {@link io.capstan.etcd.AuthSettings} and {@link
 * io.capstan.etcd.SpaceQuotaSettings}. Everything else is package-private.
 *
 * <h2>How a call flows</h2>
 *
 * A gRPC service ({@code KvService}, {@code LeaseService}, {@code MaintenanceService}) or a gateway
 * path ({@code GatewayHandler}) hands the request to the one implementation of its call ({@code
 * KvOperations}, {@code LeaseOperations}, {@code StatusOperation}, {@code MaintenanceOperations};
 * Lock and Election, {@code LockOperations} and {@code ElectionOperations}, run etcd's concurrency
 * recipes over the KV calls and watches: {@code KeyQueue}, {@code LeaderObserver}). That checks it
 * as etcd does ({@code RequestChecks}), converts it to the Raft module's message ({@code Wire}:
 * field numbers agree, unknown fields are dropped), proposes or queries it ({@code RaftCalls}), and
 * builds etcd's response with a full header. Failures are translated in one place, {@code
 * EtcdErrors}, into etcd's gRPC codes and messages, and from there into the gateway's HTTP status.
 *
 * <h2>Threads</h2>
 *
 * All shared state is immutable. gRPC calls and gateway requests run on one injected executor; Raft
 * futures are completed on it too, never on Ratis threads. The only mutable state is that of one
 * stream, each under its own object's lock: a keep-alive stream ({@code KeepAliveStream}), a watch
 * stream ({@code WatchStream}), a snapshot being sent ({@code SnapshotSender}), a streamed gateway
 * answer ({@code GatewayStream}), a Lock or Campaign waiting for its turn ({@code KeyQueue}'s
 * candidate) and an Observe stream ({@code LeaderObserver}); the set of those that last until their
 * client ends them ({@code OpenStreams}, a concurrent set that a stopping member empties, ending
 * each with etcd's "server stopped"); and the {@code ApiServer}'s lifecycle state, changed under
 * its lock.
 */
package io.capstan.etcd;
