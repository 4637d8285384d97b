package io.capstan.controller;

import io.capstan.artifacts.Artifacts;
import io.capstan.controller.admin.AdminApi;
import io.capstan.controller.config.ApiSettings;
import io.capstan.controller.config.ClusterSettings;
import io.capstan.controller.config.Settings;
import io.capstan.controller.lifecycle.Component;
import io.capstan.controller.lifecycle.ComponentState;
import io.capstan.controller.lifecycle.Lifecycle;
import io.capstan.controller.telemetry.GrpcRequestIds;
import io.capstan.controller.telemetry.Metrics;
import io.capstan.etcd.ApiLimits;
import io.capstan.etcd.ApiServer;
import io.capstan.etcd.EtcdApi;
import io.capstan.etcd.GrpcAdmission;
import io.capstan.raft.GrpcTransportBinding;
import io.capstan.raft.LeadershipCheck;
import io.capstan.raft.Limits;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftNode;
import io.capstan.raft.TransportBinding;
import io.capstan.transport.MemberCredentials;
import io.capstan.transport.PeerTransport;
import io.capstan.web.AdmissionBudget;
import io.capstan.web.Gate;
import io.capstan.web.Readiness;
import io.capstan.web.Route;
import io.capstan.web.WebServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;

/**
 * The daemon's wiring: builds every component from the bound settings, declares every route before
 * the web layer starts, and arranges the components in the lifecycle graph (docs/architecture.md,
 * section 2):
 *
 * <pre>
 * web ─► transport ─► raft ─► api     (capstan.raft.transport = web)
 *                         └──► artifacts
 * web ─► raft ─► api, artifacts       (capstan.raft.transport = grpc: Ratis's own port)
 * </pre>
 *
 * <p>{@code artifacts} is the artifact store, its endpoints ({@code /v1/artifacts}, {@code
 * /v1/uploads}, gated by it) and its background work; members fetch from each other at their web
 * addresses, which only the web transport records.
 *
 * <p>{@code api} is the etcd v3 gRPC server on the api port; etcd's JSON gateway routes on the web
 * port are gated by it. {@code GET /metrics} is served once the web layer runs; the {@link Metrics}
 * behind it also observe every web request and gRPC call. The admin API ({@code /v1/...}, see
 * {@link AdminApi}) is gated by {@code raft}; with an admin token configured, it and {@code
 * /metrics} need the token.
 *
 * <p>Raft's peer messages travel through the web layer, so Raft starts only once the web layer's
 * listener is bound, and stops before it. Peer routes are gated by the transport component: until
 * it runs they answer 503, and the transport itself answers 503 until Ratis has bound its server.
 *
 * <p>Thread safety: everything here is fixed at construction; the lifecycle owns the states.
 */
public final class Daemon {
    static final String WEB = "web";
    static final String TRANSPORT = "transport";
    static final String RAFT = "raft";
    static final String API = "api";
    static final String ARTIFACTS = "artifacts";

    /** Threads that run etcd API calls and gateway requests; Ratis futures complete onto them. */
    private static final int API_THREADS =
            Math.max(8, 4 * Runtime.getRuntime().availableProcessors());

    private final WebServer web;
    private final RaftNode raft;
    private final AdminApi admin;
    private final GrpcAdmission grpcAdmission;
    private final Lifecycle lifecycle;

    private Daemon(Settings settings, UnaryOperator<Component> decorate) {
        List<Route> routes = new ArrayList<>();
        Lifecycle.Builder graph =
                Lifecycle.builder()
                        .defaultTimeouts(
                                settings.lifecycle().startTimeout(),
                                settings.lifecycle().stopTimeout());

        TransportBinding binding;
        String raftDependency;
        Optional<PeerTransport> webTransport = Optional.empty();
        if (settings.cluster().transport() == ClusterSettings.Transport.WEB) {
            // The address is asked for only once Ratis runs, after the web layer bound its port.
            PeerTransport peers =
                    PeerTransport.create(settings.transport(), settings.tls(), this::webAddress);
            webTransport = Optional.of(peers);
            routes.addAll(peers.routes(gate(TRANSPORT)));
            binding =
                    new TransportBinding() {
                        @Override
                        public void configure(
                                Peer self, RaftProperties properties, Parameters parameters) {
                            peers.configure(properties, parameters);
                        }

                        @Override
                        public Optional<LeadershipCheck> leadershipCheck() {
                            return Optional.of(peers::confirmLeadership);
                        }
                    };
            graph.add(
                    decorate.apply(
                            new ComponentAdapter(
                                    TRANSPORT,
                                    Set.of(WEB),
                                    () -> CompletableFuture.completedFuture(null),
                                    peers::close)));
            raftDependency = TRANSPORT;
        } else {
            binding = new GrpcTransportBinding();
            raftDependency = WEB;
        }
        // Lease countdowns measure time: a step of the wall clock must not end leases early, nor
        // extend them.
        this.raft = new RaftNode(settings.raft(), binding, MonotonicClock.startingNow());
        this.admin =
                new AdminApi(
                        raft,
                        settings.admin(),
                        settings.cluster().groupId(),
                        settings.cluster().transport() == ClusterSettings.Transport.WEB,
                        settings.tls(),
                        Clock.systemUTC());
        routes.addAll(admin.routes(gate(RAFT)));
        if (settings.admin().peerFaults()) {
            // The binder accepts fault-injection only with the web transport.
            routes.addAll(
                    admin.peerFaultRoutes(gate(TRANSPORT), webTransport.orElseThrow().faults()));
        }
        // The admin API samples this member's leader while Raft runs.
        graph.add(
                decorate.apply(
                        new ComponentAdapter(
                                RAFT,
                                Set.of(raftDependency),
                                () -> raft.start().thenRun(admin::start),
                                () -> {
                                    admin.stop();
                                    raft.stop().join();
                                })));
        Artifacts artifacts =
                new Artifacts(
                        settings.artifacts(),
                        raft,
                        MemberCredentials.of(settings.transport()),
                        settings.tls(),
                        webTransport.isPresent(),
                        Clock.systemUTC());
        routes.addAll(artifacts.routes(gate(ARTIFACTS)));
        graph.add(
                decorate.apply(
                        new ComponentAdapter(
                                ARTIFACTS, Set.of(RAFT), artifacts::start, artifacts::stop)));
        ApiSettings apiSettings = settings.api();
        this.grpcAdmission =
                new GrpcAdmission(apiSettings.unaryAdmission(), apiSettings.streamAdmission());
        Metrics metrics = new Metrics(raft, artifacts, this::admissionBudgets, Clock.systemUTC());
        routes.add(metrics.route(gate(WEB)));

        Limits limits = settings.raft().limits();
        ApiLimits apiLimits =
                new ApiLimits(
                        limits.maxRequestBytes(),
                        limits.maxTxnOps(),
                        settings.api().maxWatchesPerStream());
        ExecutorService apiThreads = Executors.newFixedThreadPool(API_THREADS, apiThreadFactory());
        EtcdApi etcd =
                new EtcdApi(
                        raft,
                        raft.admin(),
                        settings.raft(),
                        apiLimits,
                        settings.api().auth(),
                        settings.api().space(),
                        apiThreads);
        routes.addAll(etcd.gatewayRoutes(gate(API)));
        // The last sees each call first: request id, then metrics (which so count refusals), then
        // admission.
        ApiServer api =
                new ApiServer(
                        apiSettings.host(),
                        apiSettings.port(),
                        apiLimits,
                        etcd.services(),
                        etcd::endStreams,
                        List.of(grpcAdmission, metrics.grpcCalls(), new GrpcRequestIds()),
                        settings.tls(),
                        apiThreads,
                        settings.lifecycle().stopTimeout().dividedBy(4));
        String advertisedHost = settings.node().host();
        String apiScheme = settings.tls().isPresent() ? "https" : "http";
        // Publishing waits for a leader, which the api component must not: readiness is not quorum.
        graph.add(
                decorate.apply(
                        new ComponentAdapter(
                                API,
                                Set.of(RAFT),
                                () ->
                                        api.start()
                                                .thenAccept(
                                                        bound -> {
                                                            etcd.startSpaceChecks();
                                                            raft.publish(
                                                                    List.of(
                                                                            clientUrl(
                                                                                    apiScheme,
                                                                                    advertisedHost,
                                                                                    bound)));
                                                        }),
                                () -> {
                                    etcd.stopSpaceChecks();
                                    // Calls still waiting for a permit end at once; started ones
                                    // run on into the server's stop.
                                    grpcAdmission.close();
                                    api.stop();
                                    apiThreads.shutdown();
                                })));

        // The admin token guards /v1/* and /metrics, whoever declared them.
        routes.replaceAll(admin::guarded);
        // /health/ready is only probed once the listener is bound, after the constructor returned.
        this.web =
                new WebServer(
                        settings.web(),
                        routes,
                        this::readiness,
                        metrics.httpRequests(),
                        settings.tls());
        graph.add(decorate.apply(new ComponentAdapter(WEB, Set.of(), web::start, web::stop)));
        this.lifecycle = graph.build();
    }

    /**
     * The web layer's admission budgets and the gRPC API's; asked by scrapes, once the web layer
     * runs.
     */
    private List<AdmissionBudget> admissionBudgets() {
        return Stream.concat(web.admissionBudgets().stream(), grpcAdmission.budgets().stream())
                .toList();
    }

    /** The client URL published for this member: the advertised host and the bound port. */
    private static String clientUrl(String scheme, String host, InetSocketAddress bound) {
        String urlHost = host.contains(":") ? "[" + host + "]" : host;
        return scheme + "://" + urlHost + ":" + bound.getPort();
    }

    private static ThreadFactory apiThreadFactory() {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, "capstan-api-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public static Daemon create(Settings settings) {
        return new Daemon(settings, UnaryOperator.identity());
    }

    /**
     * As {@link #create(Settings)}, with each component passed through {@code decorate} (tests).
     */
    static Daemon create(Settings settings, UnaryOperator<Component> decorate) {
        return new Daemon(settings, decorate);
    }

    public CompletableFuture<Void> start() {
        return lifecycle.start();
    }

    public CompletableFuture<Void> stop() {
        return lifecycle.stop();
    }

    /**
     * Completes with the cause once this member's Raft log cannot be written (see {@link
     * RaftNode#logFailure}): the member must then stop. Never completes otherwise.
     */
    CompletableFuture<Throwable> fatalFailure() {
        return raft.logFailure();
    }

    InetSocketAddress webAddress() {
        return web.address();
    }

    public RaftNode raft() {
        return raft;
    }

    Map<String, ComponentState> states() {
        return lifecycle.states();
    }

    /** Whether every component is RUNNING and no stop has begun. */
    boolean isRunning() {
        return lifecycle.isRunning();
    }

    /**
     * The Raft role, leader and term on one line, e.g. {@code raft follower, leader n1, term 3}.
     */
    String raftSummary() {
        NodeStatus status = raft.status();
        return "raft "
                + AdminApi.roleName(status.role())
                + ", "
                + status.leaderId().map(leader -> "leader " + leader).orElse("no leader")
                + ", term "
                + status.term();
    }

    /** Open while the named component is RUNNING. */
    private Gate gate(String component) {
        return new Gate() {
            @Override
            public String name() {
                return component;
            }

            @Override
            public boolean isOpen() {
                return lifecycle.states().get(component) == ComponentState.RUNNING;
            }
        };
    }

    /**
     * Ready (serving) when every component is RUNNING and this member knows a leader (or lost it no
     * longer than {@code capstan.raft.max-leaderless} ago) and has applied what it knows to be
     * committed; the body lists each component's state, the Raft details and each check.
     */
    private Readiness readiness() {
        return admin.readiness(lifecycle.states(), lifecycle.isRunning());
    }
}
