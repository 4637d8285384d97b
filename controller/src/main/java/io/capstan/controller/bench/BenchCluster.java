package io.capstan.controller.bench;

import io.capstan.controller.Daemon;
import io.capstan.controller.config.SettingsLoader;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A three-member cluster in this JVM for one benchmark transport, configured as an operator would:
 * a HOCON file per member bound by {@link SettingsLoader}, a cluster secret file, real ports on
 * 127.0.0.1 (web, Raft and etcd API) and data directories under a directory of its own, which
 * {@link #close} deletes.
 *
 * <p>States: {@link #start} returns a cluster that has a leader every member knows, or throws
 * {@link FormationException} after stopping whatever started and deleting its directory. {@link
 * #close} stops every member and deletes the directory; it is called once, by the thread that
 * started the cluster, which owns it.
 */
final class BenchCluster implements AutoCloseable {
    static final int SIZE = 3;

    private static final Logger log = LoggerFactory.getLogger(BenchCluster.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final String HOST = "127.0.0.1";

    private final Path dir;
    private final List<Daemon> members;
    private final RaftNode leader;
    private final InetSocketAddress leaderApi;

    private BenchCluster(
            Path dir, List<Daemon> members, RaftNode leader, InetSocketAddress leaderApi) {
        this.dir = dir;
        this.members = members;
        this.leader = leader;
        this.leaderApi = leaderApi;
    }

    /** The cluster could not start or elect a leader in time; the message says what happened. */
    static final class FormationException extends Exception {
        FormationException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Starts the members over {@code transport} ("web" or "grpc") in a new directory under {@code
     * parent}, and waits until one is leader and every member knows it.
     *
     * @param formTimeout bounds the start of the members and, separately, the election
     */
    static BenchCluster start(
            Path parent, String transport, Duration formTimeout, SecureRandom random)
            throws FormationException, InterruptedException {
        Path dir;
        List<Daemon> members = new ArrayList<>();
        try {
            dir = Files.createTempDirectory(parent, "capstan-bench-" + transport + "-");
        } catch (IOException e) {
            throw new FormationException(
                    "cannot create a data directory under " + parent + ": " + e, e);
        }
        try {
            int[] apiPorts = new int[SIZE];
            for (Path conf : writeConfigs(dir, transport, apiPorts, random)) {
                members.add(Daemon.create(SettingsLoader.load(Optional.of(conf), Map.of())));
            }
            CompletableFuture.allOf(
                            members.stream().map(Daemon::start).toArray(CompletableFuture[]::new))
                    .get(formTimeout.toMillis(), TimeUnit.MILLISECONDS);
            int leader = awaitLeader(transport, members, formTimeout);
            return new BenchCluster(
                    dir,
                    members,
                    members.get(leader).raft(),
                    new InetSocketAddress(HOST, apiPorts[leader]));
        } catch (ExecutionException e) {
            stopAndDelete(dir, members);
            throw new FormationException(
                    transport + " cluster failed to start: " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            stopAndDelete(dir, members);
            throw new FormationException(
                    transport + " cluster did not start within " + formTimeout, e);
        } catch (IOException | RuntimeException e) {
            stopAndDelete(dir, members);
            throw new FormationException(
                    transport + " cluster could not be set up: " + e.getMessage(), e);
        } catch (FormationException | InterruptedException e) {
            stopAndDelete(dir, members);
            throw e;
        }
    }

    /**
     * The leader's node, as found when the cluster formed; it forwards writes should leadership
     * move.
     */
    RaftNode leader() {
        return leader;
    }

    /** The etcd API address of the member that led when the cluster formed. */
    InetSocketAddress leaderApi() {
        return leaderApi;
    }

    @Override
    public void close() {
        log.info("stopping the benchmark cluster and deleting {}", dir);
        stopAndDelete(dir, members);
    }

    /**
     * Writes n1..n3's configuration files and the cluster secret; returns the files and fills
     * {@code apiPorts} with the members' etcd API ports.
     */
    private static List<Path> writeConfigs(
            Path dir, String transport, int[] apiPorts, SecureRandom random) throws IOException {
        int[] webPorts = new int[SIZE];
        int[] grpcPorts = new int[SIZE];
        reserveFreePorts(webPorts, grpcPorts, apiPorts);
        Path secret = dir.resolve("cluster.secret");
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        Files.writeString(
                secret, Base64.getEncoder().encodeToString(bytes), StandardCharsets.US_ASCII);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        }
        boolean web = transport.equals("web");
        String peers =
                IntStream.range(0, SIZE)
                        .mapToObj(
                                i ->
                                        "\"n"
                                                + (i + 1)
                                                + "="
                                                + HOST
                                                + ":"
                                                + (web ? webPorts[i] : grpcPorts[i])
                                                + "\"")
                        .collect(Collectors.joining(", "));
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < SIZE; i++) {
            String id = "n" + (i + 1);
            Path conf = dir.resolve(id + ".conf");
            // Short election timeouts, as the test clusters use: the cluster forms in about a
            // second.
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "capstan.node { id = \""
                                    + id
                                    + "\", data-dir = "
                                    + quoted(dir.resolve(id))
                                    + ", host = \""
                                    + HOST
                                    + "\" }",
                            "capstan.web.port = " + webPorts[i],
                            "capstan.api.port = " + apiPorts[i],
                            "capstan.raft {",
                            "  transport = " + transport,
                            "  peers = [" + peers + "]",
                            "  secret-file = " + quoted(secret),
                            "  grpc-port = " + grpcPorts[i],
                            "  election-timeout-min = 300ms",
                            "  election-timeout-max = 600ms",
                            "}",
                            ""),
                    StandardCharsets.UTF_8);
            files.add(conf);
        }
        return files;
    }

    /** A HOCON quoted string. */
    private static String quoted(Path path) {
        return "\"" + path.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /**
     * Fills every array with ports free on 127.0.0.1, all different: every socket stays open until
     * all are chosen. A port may still be taken by someone else before a member binds it; that
     * member then fails to start and the cluster reports it.
     */
    private static void reserveFreePorts(int[]... ports) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            InetAddress loopback = InetAddress.getByName(HOST);
            for (int[] array : ports) {
                for (int i = 0; i < array.length; i++) {
                    sockets.add(new ServerSocket(0, 1, loopback));
                    array[i] = sockets.get(sockets.size() - 1).getLocalPort();
                }
            }
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    /**
     * Polls until a member leads and every member names it as leader; bounded by {@code timeout}.
     *
     * @return the leader's index in {@code members}
     */
    private static int awaitLeader(String transport, List<Daemon> members, Duration timeout)
            throws InterruptedException, FormationException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<NodeStatus> statuses = members.stream().map(m -> m.raft().status()).toList();
            Optional<NodeStatus> leader =
                    statuses.stream().filter(s -> s.role() == NodeStatus.Role.LEADER).findFirst();
            if (leader.isPresent()
                    && statuses.stream()
                            .allMatch(
                                    s -> s.leaderId().equals(Optional.of(leader.get().nodeId())))) {
                String id = leader.get().nodeId();
                return IntStream.range(0, members.size())
                        .filter(i -> members.get(i).raft().nodeId().equals(id))
                        .findFirst()
                        .orElseThrow();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new FormationException(
                        transport
                                + " cluster had no leader known to all "
                                + members.size()
                                + " members within "
                                + timeout
                                + "; last seen: "
                                + statuses,
                        null);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static void stopAndDelete(Path dir, List<Daemon> members) {
        try {
            CompletableFuture.allOf(
                            members.stream().map(Daemon::stop).toArray(CompletableFuture[]::new))
                    .get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("benchmark cluster in {} did not stop cleanly: {}", dir, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("interrupted while stopping the benchmark cluster in {}", dir);
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | UncheckedIOException e) {
            log.warn("could not delete benchmark data in {}: {}", dir, e.toString());
        }
    }
}
