package io.capstan.faults;

import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrantResponse;
import io.capstan.etcd.api.LeaseKeepAliveRequest;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.LeaseTimeToLiveRequest;
import io.capstan.etcd.api.LeaseTimeToLiveResponse;
import io.capstan.etcd.api.PutRequest;
import io.capstan.faults.check.HistoryChecker;
import io.capstan.faults.history.Event;
import io.capstan.faults.history.HistoryFile;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of leases with one request in flight: grants a lease, attaches one to three keys to it
 * ({@code lease/<lease>/<n>}), keeps it alive a few times, then lets it expire and starts the next.
 *
 * <p>Threads: runs on its own thread; {@link #stop} from any; {@link #granted} after it stopped.
 */
final class LeaseClient implements Runnable {
    private final String process;
    private final Cluster cluster;
    private final HistoryFile history;
    private final Random random;
    private final Duration deadline;
    private final List<Long> granted = new ArrayList<>();
    private volatile boolean stopped;
    private int member;
    private int written;

    LeaseClient(
            String process, Cluster cluster, HistoryFile history, long seed, Duration deadline) {
        this.process = process;
        this.cluster = cluster;
        this.history = history;
        this.random = new Random(seed);
        this.deadline = deadline;
        this.member = random.nextInt(cluster.members().size());
    }

    void stop() {
        stopped = true;
    }

    /** Every lease this client was granted. */
    List<Long> granted() {
        return List.copyOf(granted);
    }

    @Override
    public void run() {
        while (!stopped) {
            long ttl = 2 + random.nextInt(4);
            Long lease = grant(ttl);
            if (lease == null) {
                next();
                continue;
            }
            int keys = 1 + random.nextInt(3);
            for (int i = 0; i < keys && !stopped; i++) {
                if (!put(HistoryChecker.LEASE_PREFIX + Long.toHexString(lease) + "/" + i, lease)) {
                    next();
                }
            }
            int renewals = random.nextInt(4);
            for (int i = 0; i < renewals && !stopped; i++) {
                KvClient.pause(ttl * 1000 / 3);
                if (!keepAlive(lease)) {
                    next();
                }
            }
            KvClient.pause(200 + random.nextInt(800));
        }
    }

    private void next() {
        member = (member + 1) % cluster.members().size();
        KvClient.pause(100);
    }

    private MemberSlot target() {
        return cluster.members().get(member);
    }

    private Long grant(long ttl) {
        history.record(Event.of(process, Event.INVOKE, "grant").ttl(ttl));
        try {
            LeaseGrantResponse r =
                    cluster.leases(target(), deadline)
                            .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(ttl).build());
            if (!r.getError().isEmpty()) {
                history.record(Event.of(process, Event.FAIL, "grant").ttl(ttl).error(r.getError()));
                return null;
            }
            granted.add(r.getID());
            history.record(
                    Event.of(process, Event.OK, "grant")
                            .ttl(r.getTTL())
                            .lease(r.getID())
                            .revision(r.getHeader().getRevision()));
            return r.getID();
        } catch (RuntimeException e) {
            history.record(
                    Event.of(process, Calls.writeOutcome(e), "grant")
                            .ttl(ttl)
                            .error(Calls.describe(e)));
            return null;
        }
    }

    private boolean put(String key, long lease) {
        String value = process + "-" + written++;
        history.record(
                Event.of(process, Event.INVOKE, "lease-put").key(key).value(value).lease(lease));
        try {
            var r =
                    cluster.kv(target(), deadline)
                            .put(
                                    PutRequest.newBuilder()
                                            .setKey(Calls.bytes(key))
                                            .setValue(Calls.bytes(value))
                                            .setLease(lease)
                                            .build());
            history.record(
                    Event.of(process, Event.OK, "lease-put")
                            .key(key)
                            .value(value)
                            .lease(lease)
                            .revision(r.getHeader().getRevision()));
            return true;
        } catch (RuntimeException e) {
            history.record(
                    Event.of(process, Calls.writeOutcome(e), "lease-put")
                            .key(key)
                            .value(value)
                            .lease(lease)
                            .error(Calls.describe(e)));
            return false;
        }
    }

    /** One keep-alive on its own stream: send one request, wait for its answer, end the stream. */
    private boolean keepAlive(long lease) {
        history.record(Event.of(process, Event.INVOKE, "keepalive").lease(lease));
        CompletableFuture<LeaseKeepAliveResponse> answer = new CompletableFuture<>();
        StreamObserver<LeaseKeepAliveRequest> requests =
                cluster.leaseStreams(target(), deadline)
                        .leaseKeepAlive(
                                new StreamObserver<>() {
                                    @Override
                                    public void onNext(LeaseKeepAliveResponse r) {
                                        answer.complete(r);
                                    }

                                    @Override
                                    public void onError(Throwable t) {
                                        answer.completeExceptionally(t);
                                    }

                                    @Override
                                    public void onCompleted() {
                                        answer.completeExceptionally(
                                                new IllegalStateException(
                                                        "stream ended without an answer"));
                                    }
                                });
        try {
            requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(lease).build());
            LeaseKeepAliveResponse r = answer.get(deadline.toMillis() + 500, TimeUnit.MILLISECONDS);
            requests.onCompleted();
            history.record(
                    Event.of(process, Event.OK, "keepalive")
                            .lease(lease)
                            .ttl(r.getTTL())
                            .revision(r.getHeader().getRevision()));
            return true;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            requests.onError(e);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            // A keep-alive that did not answer renewed the lease or did not: both are allowed from
            // here on.
            history.record(
                    Event.of(process, Event.UNKNOWN, "keepalive")
                            .lease(lease)
                            .error(Calls.describe(cause)));
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            requests.onError(e);
            history.record(
                    Event.of(process, Event.UNKNOWN, "keepalive")
                            .lease(lease)
                            .error("interrupted"));
            return false;
        }
    }

    /**
     * Ends every lease granted so far (as process {@code final}), so that none expires after the
     * final log's end, and asks each one's time to live; a lease already gone answers -1.
     */
    static void revokeAndAsk(
            String process,
            Cluster cluster,
            HistoryFile history,
            List<Long> leases,
            Duration deadline) {
        int member = 0;
        for (long lease : leases) {
            for (int attempt = 0; attempt < 2 * cluster.members().size(); attempt++) {
                MemberSlot m = cluster.members().get(member);
                history.record(Event.of(process, Event.INVOKE, "ttl").lease(lease));
                try {
                    LeaseTimeToLiveResponse r =
                            cluster.leases(m, deadline)
                                    .leaseTimeToLive(
                                            LeaseTimeToLiveRequest.newBuilder()
                                                    .setID(lease)
                                                    .build());
                    history.record(
                            Event.of(process, Event.OK, "ttl")
                                    .lease(lease)
                                    .ttl(r.getTTL())
                                    .revision(r.getHeader().getRevision()));
                    if (r.getTTL() > 0) {
                        history.record(Event.of(process, Event.INVOKE, "revoke").lease(lease));
                        try {
                            cluster.leases(m, deadline)
                                    .leaseRevoke(
                                            LeaseRevokeRequest.newBuilder().setID(lease).build());
                            history.record(Event.of(process, Event.OK, "revoke").lease(lease));
                        } catch (RuntimeException e) {
                            history.record(
                                    Event.of(process, Calls.writeOutcome(e), "revoke")
                                            .lease(lease)
                                            .error(Calls.describe(e)));
                        }
                    }
                    break;
                } catch (RuntimeException e) {
                    history.record(
                            Event.of(process, Event.FAIL, "ttl")
                                    .lease(lease)
                                    .error(Calls.describe(e)));
                    member = (member + 1) % cluster.members().size();
                }
            }
        }
    }
}
