package io.capstan.controller.admin;

import io.capstan.controller.lifecycle.ComponentState;
import io.capstan.raft.Member;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import io.capstan.transport.PeerFaults;
import io.capstan.web.Admission;
import io.capstan.web.Gate;
import io.capstan.web.Readiness;
import io.capstan.web.Route;
import io.capstan.web.TlsSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member's admin HTTP API and its readiness report.
 *
 * <ul>
 *   <li>{@code GET /v1/cluster}: the cluster and every member with its Raft numbers;
 *   <li>{@code POST /v1/cluster/members}, {@code DELETE /v1/cluster/members/{id}}, {@code POST
 *       /v1/cluster/members/{id}/promote}: membership, as etcd's member add/remove/promote;
 *   <li>{@code POST /v1/cluster/leader}: leadership transfer;
 *   <li>{@code POST /v1/snapshot} (take one now) and {@code GET /v1/snapshot} (stream a backup);
 *   <li>with {@code capstan.transport.fault-injection = on} only, {@code /v1/faults/peers} ({@link
 *       #peerFaultRoutes}).
 * </ul>
 *
 * JSON in and out; errors in the web layer's shape with a stable code. With a token configured,
 * {@link #guarded} puts it in front of these routes and {@code /metrics}.
 *
 * <p><b>Threads.</b> One small executor of this object's ({@value #THREADS} threads) runs the
 * endpoints, the continuations of their Raft calls, the peer probes' callbacks, and the sampling of
 * this member's leader (see {@link LeaderWatch}) between {@link #start} and {@link #stop}. Shared
 * state is immutable apart from the leader watch's one atomic value. Snapshot streams run on the
 * web layer's worker threads.
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

    static final String CLUSTER = "/v1/cluster";
    static final String MEMBERS = CLUSTER + "/members";
    static final String ID = "id";
    static final String LEADER = CLUSTER + "/leader";
    static final String SNAPSHOT = "/v1/snapshot";

    /** Admin requests are a line of JSON; anything larger is a mistake. */
    static final long MAX_BODY_BYTES = 64 * 1024;

    /** The admission budget of the admin routes: {@code capstan.web.admission.admin}. */
    public static final Admission ADMISSION = Admission.budget("admin");

    private static final int THREADS = 2;
    private static final Duration MIN_SAMPLE = Duration.ofMillis(10);
    private static final Duration MAX_SAMPLE = Duration.ofMillis(500);

    private final RaftNode raft;
    private final long clusterId;
    private final boolean peerUrlsAreWeb;
    private final Optional<TlsSettings> tls;
    private final Optional<TokenGuard> guard;
    private final LeaderWatch leaders;
    private final Health health;
    private final Duration sampleEvery;
    private final ScheduledExecutorService executor;

    /**
     * @param groupId the Raft group id, from which the cluster id is derived
     * @param peerUrlsAreWeb whether members' peer URLs are their web addresses (the web transport),
     *     where other members can be asked for their Raft state
     * @param tls the web layers' TLS, present when members are asked over HTTPS
     */
    public AdminApi(
            RaftNode raft,
            AdminSettings settings,
            UUID groupId,
            boolean peerUrlsAreWeb,
            Optional<TlsSettings> tls,
            Clock clock) {
        this.raft = raft;
        this.clusterId = Member.clusterId(groupId);
        this.peerUrlsAreWeb = peerUrlsAreWeb;
        this.tls = tls;
        this.guard = settings.token().map(TokenGuard::new);
        this.leaders = new LeaderWatch(clock, settings.maxLeaderless());
        this.health = new Health(raft::status, leaders);
        Duration tenth = settings.maxLeaderless().dividedBy(10);
        this.sampleEvery =
                tenth.compareTo(MIN_SAMPLE) < 0
                        ? MIN_SAMPLE
                        : tenth.compareTo(MAX_SAMPLE) > 0 ? MAX_SAMPLE : tenth;
        AtomicInteger threads = new AtomicInteger();
        ScheduledThreadPoolExecutor pool =
                new ScheduledThreadPoolExecutor(
                        THREADS,
                        task -> {
                            Thread t =
                                    new Thread(
                                            task,
                                            "capstan-admin-"
                                                    + raft.nodeId()
                                                    + "-"
                                                    + threads.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        pool.setRemoveOnCancelPolicy(true);
        this.executor = pool;
    }

    /** The admin routes, each open while {@code owner} (the Raft component) runs. */
    public List<Route> routes(Gate owner) {
        Optional<PeerProbe> probe =
                peerUrlsAreWeb
                        ? Optional.of(new PeerProbe(executor, tls.map(TlsSettings::peerContext)))
                        : Optional.empty();
        return List.of(
                new Route(
                        "GET",
                        CLUSTER,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(new ClusterStatusEndpoint(raft, leaders, clusterId, probe))),
                new Route(
                        "POST",
                        MEMBERS,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(new AddMemberEndpoint(raft))),
                new Route(
                        "DELETE",
                        MEMBERS + "/{" + ID + "}",
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(new RemoveMemberEndpoint(raft))),
                new Route(
                        "POST",
                        MEMBERS + "/{" + ID + "}/promote",
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(new PromoteMemberEndpoint(raft))),
                new Route(
                        "POST",
                        LEADER,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(new TransferLeaderEndpoint(raft))),
                new Route(
                        "POST",
                        SNAPSHOT,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(new TakeSnapshotEndpoint(raft))),
                new Route(
                        "GET",
                        SNAPSHOT,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        new SnapshotDownloadHandler(raft.admin()::exportSnapshot, raft::status)));
    }

    /**
     * The routes of {@code /v1/faults/peers} (see {@link PeerFaultsEndpoints}) over {@code faults},
     * each open while {@code owner} (the transport component) runs. Declare them only with {@code
     * capstan.transport.fault-injection = on}.
     */
    public List<Route> peerFaultRoutes(Gate owner, PeerFaults faults) {
        PeerFaultsEndpoints endpoints = new PeerFaultsEndpoints(raft, faults);
        String path = PeerFaultsEndpoints.PATH;
        return List.of(
                new Route(
                        "GET", path, owner, MAX_BODY_BYTES, ADMISSION, endpoint(endpoints.show())),
                new Route(
                        "PUT",
                        path,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(endpoints.replace())),
                new Route(
                        "DELETE",
                        path,
                        owner,
                        MAX_BODY_BYTES,
                        ADMISSION,
                        endpoint(endpoints.clear())));
    }

    /**
     * {@code route} behind the admin token when it is an admin route ({@code /v1/...}, {@code
     * /metrics}) and a token is configured; otherwise {@code route} itself. Apply to every route
     * before the web layer is built.
     */
    public Route guarded(Route route) {
        return guard.map(g -> g.guarded(route)).orElse(route);
    }

    /**
     * What {@code /health/ready} answers, with a check per component and Raft's {@code leader} and
     * {@code applied}; cheap and non-blocking.
     *
     * @param running whether every component is RUNNING and no stop has begun
     */
    public Readiness readiness(Map<String, ComponentState> components, boolean running) {
        return health.readiness(components, running);
    }

    /** A Raft role as operators name it: {@code learner} for Ratis's listener, else lower case. */
    public static String roleName(NodeStatus.Role role) {
        return Health.roleName(role);
    }

    /** Starts sampling this member's leader; call once Raft runs. */
    public void start() {
        executor.scheduleWithFixedDelay(
                this::sample, 0, sampleEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops sampling and the executor; admin requests still arriving get 503. Idempotent. */
    public void stop() {
        executor.shutdownNow();
    }

    private void sample() {
        try {
            leaders.observe(raft.status());
        } catch (RuntimeException e) {
            // A failed sample must not end the schedule; the next one tries again.
            LOG.debug("sampling the Raft status failed", e);
        }
    }

    private EndpointHandler endpoint(AdminEndpoint endpoint) {
        return new EndpointHandler(endpoint, executor, raft::status);
    }
}
