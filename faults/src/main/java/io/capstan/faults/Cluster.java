package io.capstan.faults;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.ClusterGrpc;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.MaintenanceGrpc;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.StatusResponse;
import io.capstan.etcd.api.WatchGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The members of one run as OS processes, and one gRPC channel per member for everyone who talks to
 * them. A shutdown hook SIGKILLs every member still running when the harness's JVM exits early.
 *
 * <p>Threads: processes are started, signalled and stopped by the harness's control thread only
 * (which owns {@link #paused} and {@link #joining}); the channels, {@link #isUp} and {@link
 * #status} may be used from any thread.
 */
final class Cluster implements AutoCloseable {
    private static final Duration STATUS_DEADLINE = Duration.ofSeconds(1);

    private final Target target;
    private final List<MemberSlot> members;
    private final Map<MemberSlot, ManagedChannel> channels = new LinkedHashMap<>();
    private final Map<MemberSlot, Process> processes = new ConcurrentHashMap<>();
    private final Set<MemberSlot> paused = new HashSet<>();

    /**
     * Members added to the running cluster, which join it rather than form it when started on empty
     * data.
     */
    private final Set<MemberSlot> joining = new HashSet<>();

    private final Thread killOnExit = new Thread(this::killAllNow, "kill-members-on-exit");

    Cluster(Target target, List<MemberSlot> members) {
        this.target = target;
        this.members = List.copyOf(members);
        for (MemberSlot m : members) {
            channels.put(
                    m,
                    NettyChannelBuilder.forAddress(MemberSlot.HOST, target.clientPort(m))
                            .usePlaintext()
                            .maxInboundMessageSize(64 << 20)
                            .build());
        }
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    List<MemberSlot> members() {
        return members;
    }

    /** {@code m}'s channel, dialing again now if a connection attempt failed (see below). */
    private ManagedChannel channel(MemberSlot m) {
        return dialingNow(channels.get(m));
    }

    /**
     * {@code channel}, told to connect again at once when its last attempt failed, instead of after
     * gRPC's reconnect backoff (1 s, growing 1.6 times with each failed attempt, up to 2 min). A
     * member killed and started again refuses connections until its JVM listens; on a loaded
     * machine that took long enough for the backoff to fail every call to it fast (UNAVAILABLE: io
     * exception) for many seconds after it served: the harness could neither see it nor ask it for
     * a membership change. A call made while the new attempt is under way may still fail; the next
     * one finds the connection.
     */
    static ManagedChannel dialingNow(ManagedChannel channel) {
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            channel.resetConnectBackoff();
        }
        return channel;
    }

    KVGrpc.KVBlockingStub kv(MemberSlot m, Duration deadline) {
        return KVGrpc.newBlockingStub(channel(m))
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    LeaseGrpc.LeaseBlockingStub leases(MemberSlot m, Duration deadline) {
        return LeaseGrpc.newBlockingStub(channel(m))
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    LeaseGrpc.LeaseStub leaseStreams(MemberSlot m, Duration deadline) {
        return LeaseGrpc.newStub(channel(m))
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    ClusterGrpc.ClusterBlockingStub clusterApi(MemberSlot m, Duration deadline) {
        return ClusterGrpc.newBlockingStub(channel(m))
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    WatchGrpc.WatchStub watches(MemberSlot m) {
        return WatchGrpc.newStub(channel(m));
    }

    /** Starts every member, forming a new cluster. */
    void startAll() throws IOException {
        for (MemberSlot m : members) {
            start(m);
        }
    }

    /**
     * Starts {@code m}'s process on its data directory (new or left by an earlier process); its
     * output goes to its log.
     */
    void start(MemberSlot m) throws IOException {
        if (isUp(m)) {
            return;
        }
        Files.createDirectories(m.dataDir());
        List<String> command = target.prepare(m, members, joining.contains(m));
        Files.writeString(
                m.log(),
                "---- harness: starting " + m + ": " + String.join(" ", command) + "\n",
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(m.log().toFile()));
        processes.put(m, builder.start());
        paused.remove(m);
    }

    /** From now on {@code m} starts as a member the running cluster added, joining it. */
    void joinOnStart(MemberSlot m) {
        joining.add(m);
    }

    /** Whether {@code m}'s process runs (paused or not). */
    boolean isUp(MemberSlot m) {
        Process p = processes.get(m);
        return p != null && p.isAlive();
    }

    /** SIGKILL; waits until the process is gone. */
    void kill(MemberSlot m) throws IOException {
        Process p = processes.remove(m);
        paused.remove(m);
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroyForcibly();
        awaitExit(m, p, "SIGKILL");
    }

    /**
     * SIGTERM, as an operator stops a member; waits until the process is gone.
     *
     * @return whether it stopped by itself within {@code grace} (else it was killed)
     */
    boolean stop(MemberSlot m, Duration grace) throws IOException {
        resume(m);
        Process p = processes.remove(m);
        if (p == null || !p.isAlive()) {
            return true;
        }
        p.destroy();
        try {
            if (p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping " + m, e);
        }
        p.destroyForcibly();
        awaitExit(m, p, "SIGKILL");
        return false;
    }

    private static void awaitExit(MemberSlot m, Process p, String signal) throws IOException {
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new IOException(
                        m + " (pid " + p.pid() + ") did not die within 30 s of " + signal);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while killing " + m, e);
        }
    }

    /** SIGSTOP. */
    void pause(MemberSlot m) throws IOException {
        Process p = processes.get(m);
        if (p != null && p.isAlive()) {
            Commands.run(List.of("kill", "-STOP", Long.toString(p.pid())));
            paused.add(m);
        }
    }

    /** SIGCONT, when {@code m} is paused. */
    void resume(MemberSlot m) throws IOException {
        Process p = processes.get(m);
        if (p != null && p.isAlive() && paused.remove(m)) {
            Commands.run(List.of("kill", "-CONT", Long.toString(p.pid())));
        }
    }

    /** Members whose process runs and is not paused. */
    List<MemberSlot> running() {
        return members.stream().filter(m -> isUp(m) && !paused.contains(m)).toList();
    }

    Optional<StatusResponse> status(MemberSlot m) {
        try {
            return Optional.of(
                    MaintenanceGrpc.newBlockingStub(channel(m))
                            .withDeadlineAfter(STATUS_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                            .status(StatusRequest.getDefaultInstance()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The member a majority of the cluster's members (asked among those running) names as leader.
     */
    Optional<MemberSlot> leader() {
        Map<Long, MemberSlot> byId = new HashMap<>();
        Map<Long, Integer> votes = new HashMap<>();
        for (MemberSlot m : running()) {
            status(m)
                    .ifPresent(
                            s -> {
                                byId.put(s.getHeader().getMemberId(), m);
                                if (s.getLeader() != 0) {
                                    votes.merge(s.getLeader(), 1, Integer::sum);
                                }
                            });
        }
        return votes.entrySet().stream()
                .filter(e -> e.getValue() * 2 > members.size())
                .map(e -> byId.get(e.getKey()))
                .filter(Objects::nonNull)
                .findFirst();
    }

    /**
     * Waits until every member runs, all name the same leader, and a linearizable read through that
     * leader succeeds.
     */
    boolean awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (healthy()) {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    private boolean healthy() {
        Set<Long> leaders = new HashSet<>();
        for (MemberSlot m : members) {
            Optional<StatusResponse> s =
                    isUp(m) && !paused.contains(m) ? status(m) : Optional.empty();
            if (s.isEmpty() || s.get().getLeader() == 0) {
                return false;
            }
            leaders.add(s.get().getLeader());
        }
        Optional<MemberSlot> leader = leader();
        if (leaders.size() != 1 || leader.isEmpty()) {
            return false;
        }
        try {
            kv(leader.get(), Duration.ofSeconds(2))
                    .range(
                            RangeRequest.newBuilder()
                                    .setKey(ByteString.copyFromUtf8("health"))
                                    .build());
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void killAllNow() {
        processes.values().forEach(Process::destroyForcibly);
    }

    /** SIGKILLs every member and closes the channels. */
    @Override
    public void close() throws IOException {
        IOException failed = null;
        for (MemberSlot m : members) {
            try {
                kill(m);
            } catch (IOException e) {
                failed = e;
            }
        }
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is exiting already: the hook runs, and finds nothing left to kill
        }
        if (failed != null) {
            throw failed;
        }
    }
}
