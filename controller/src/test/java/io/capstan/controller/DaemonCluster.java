package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.controller.config.SettingsLoader;
import io.capstan.controller.lifecycle.Component;
import io.capstan.raft.NodeStatus;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Daemons of one cluster in this JVM, each with its own real web port on 127.0.0.1, its own data
 * directory and the real peer transport, configured the way an operator configures them: a HOCON
 * file per member, bound by {@link SettingsLoader}.
 */
final class DaemonCluster implements AutoCloseable {
    /** Replaced on restart; touched only by the test thread. */
    private final List<Daemon> members;

    /** Replaced on a restart with more configuration; touched only by the test thread. */
    private final List<Settings> settings;

    private final List<Path> configs;

    private DaemonCluster(List<Daemon> members, List<Settings> settings, List<Path> configs) {
        this.members = members;
        this.settings = settings;
        this.configs = configs;
    }

    /**
     * Builds (without starting) {@code size} members n1..nN over {@code transport} ("web" or
     * "grpc"); {@code decorate} may wrap member i's components (0-based), e.g. to delay one.
     */
    static DaemonCluster create(
            Path dir,
            int size,
            String transport,
            BiFunction<Integer, Component, Component> decorate)
            throws Exception {
        return create(dir, size, transport, "", decorate);
    }

    /** As above, with {@code extraConfig} (HOCON) appended to every member's file. */
    static DaemonCluster create(
            Path dir,
            int size,
            String transport,
            String extraConfig,
            BiFunction<Integer, Component, Component> decorate)
            throws Exception {
        int[] ports = freePorts(3 * size);
        int[] webPorts = Arrays.copyOfRange(ports, 0, size);
        int[] apiPorts = Arrays.copyOfRange(ports, size, 2 * size);
        int[] grpcPorts = Arrays.copyOfRange(ports, 2 * size, 3 * size);
        Path secret = dir.resolve("cluster.secret");
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        Files.writeString(secret, Base64.getEncoder().encodeToString(random));
        boolean web = transport.equals("web");
        String peers =
                IntStream.range(0, size)
                        .mapToObj(
                                i ->
                                        "\"n"
                                                + (i + 1)
                                                + "=127.0.0.1:"
                                                + (web ? webPorts[i] : grpcPorts[i])
                                                + "\"")
                        .collect(Collectors.joining(", "));
        List<Daemon> members = new ArrayList<>();
        List<Settings> settings = new ArrayList<>();
        List<Path> configs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int index = i;
            Path conf = dir.resolve("n" + (i + 1) + ".conf");
            Files.writeString(
                    conf,
                    String.join(
                            "\n",
                            "capstan.node { id = \"n"
                                    + (i + 1)
                                    + "\", data-dir = \""
                                    + dir.resolve("n" + (i + 1))
                                    + "\" }",
                            "capstan.web.port = " + webPorts[i],
                            "capstan.api.port = " + apiPorts[i],
                            "capstan.raft {",
                            "  transport = " + transport,
                            "  peers = [" + peers + "]",
                            "  secret-file = \"" + secret + "\"",
                            "  grpc-port = " + grpcPorts[i],
                            "  election-timeout-min = 300ms",
                            "  election-timeout-max = 600ms",
                            "}",
                            extraConfig),
                    StandardCharsets.UTF_8);
            Settings bound = SettingsLoader.load(Optional.of(conf), Map.of());
            settings.add(bound);
            configs.add(conf);
            members.add(Daemon.create(bound, component -> decorate.apply(index, component)));
        }
        return new DaemonCluster(members, settings, configs);
    }

    static DaemonCluster start(Path dir, int size, String transport, String extraConfig)
            throws Exception {
        DaemonCluster cluster = create(dir, size, transport, extraConfig, (i, c) -> c);
        CompletableFuture.allOf(
                        cluster.members.stream()
                                .map(Daemon::start)
                                .toArray(CompletableFuture[]::new))
                .get();
        return cluster;
    }

    /** Distinct free ports: all are held open until every one is chosen, so none comes twice. */
    private static int[] freePorts(int n) throws Exception {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : held) {
                socket.close();
            }
        }
    }

    /** Stops member i (as SIGTERM would), keeping its data directory. */
    void stop(int i) {
        members.get(i).stop().join();
    }

    /**
     * Starts member i again from its configuration and data directory, as a restarted process does.
     */
    Daemon restart(int i) throws Exception {
        Daemon again = Daemon.create(settings.get(i));
        members.set(i, again);
        again.start().get();
        return again;
    }

    /**
     * Stops member i, appends {@code extraConfig} (HOCON, which overrides) to its file and starts
     * it again.
     */
    Daemon restart(int i, String extraConfig) throws Exception {
        stop(i);
        Files.writeString(
                configs.get(i),
                "\n" + extraConfig + "\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        settings.set(i, SettingsLoader.load(Optional.of(configs.get(i)), Map.of()));
        return restart(i);
    }

    Daemon member(int i) {
        return members.get(i);
    }

    /** Member i's etcd API port, as its configuration fixed it. */
    int apiPort(int i) {
        return settings.get(i).api().port();
    }

    List<Daemon> members() {
        return members;
    }

    /** The member that is leader, once one of {@code candidates} says so. */
    Daemon awaitLeader(List<Daemon> candidates, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Daemon d : candidates) {
                if (d.raft().status().role() == NodeStatus.Role.LEADER) {
                    return d;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError(
                "no leader among " + candidates.size() + " members within " + timeout);
    }

    static void awaitTrue(String what, Duration timeout, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        CompletableFuture.allOf(
                        members.stream().map(Daemon::stop).toArray(CompletableFuture[]::new))
                .join();
    }
}
