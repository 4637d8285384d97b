package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.controller.config.SettingsLoader;
import io.capstan.controller.systemd.SystemdNotifier;
import io.capstan.controller.systemd.WebHealthProbe;
import io.capstan.web.TlsSettings;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code capstan serve}: binds the configuration, starts the daemon's lifecycle graph and runs
 * until SIGTERM or SIGINT, then stops it in reverse order.
 *
 * <p>Bad configuration ends the process with exit code 2 before any component starts; a component
 * that fails to start ends it with 1 after everything started was stopped. So does a Raft log that
 * cannot be written (a full disk): the member says so, stops in order and exits 1, so that systemd
 * starts it again ({@code Restart=on-failure}), and it comes back once there is room (see README,
 * Disk full).
 *
 * <p>Under systemd ({@code NOTIFY_SOCKET} set) it sends {@code READY=1} once every component runs,
 * status lines and watchdog pings while it serves, and {@code STOPPING=1} when the stop begins (see
 * {@link SystemdNotifier}).
 */
@Command(name = "serve", description = "Run the daemon until SIGTERM or SIGINT.")
final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "HOCON configuration file; built-in defaults give a single-node cluster.")
    Path config;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        Settings settings = SettingsLoader.load(Optional.ofNullable(config), System.getenv());
        NodeLogging.setNodeId(settings.node().id());
        NodeLogging.useFormat(settings.log().format());
        NodeLogging.routeJavaUtilLogging();

        // Installed before anything starts, so a signal during start still stops cleanly.
        CompletableFuture<String> stopSignal = StopSignals.install();
        Daemon daemon = Daemon.create(settings);
        try (SystemdNotifier systemd =
                SystemdNotifier.fromEnvironment(
                        System.getenv(),
                        new WebHealthProbe(
                                daemon::isRunning,
                                daemon::webAddress,
                                settings.tls().map(TlsSettings::selfContext)),
                        daemon::raftSummary)) {
            return serve(daemon, stopSignal, systemd);
        }
    }

    private int serve(Daemon daemon, CompletableFuture<String> stopSignal, SystemdNotifier systemd)
            throws InterruptedException {
        CompletableFuture<Void> started = daemon.start();
        try {
            CompletableFuture.anyOf(started, stopSignal).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            log.error("start failed: {}", cause.getMessage(), cause);
            spec.commandLine().getErr().println("capstan: start failed: " + cause.getMessage());
            daemon.stop().join();
            return ExitCodes.FAILED;
        }
        if (started.isDone()) {
            log.info("capstan {} started: web {}", Version.current(), daemon.webAddress());
            // Every component runs; a Raft quorum is not awaited (a cold cluster's first member).
            systemd.ready();
        }
        CompletableFuture<Throwable> fatal = daemon.fatalFailure();
        CompletableFuture.anyOf(stopSignal, fatal).join();
        if (!stopSignal.isDone()) {
            Throwable cause = fatal.join();
            log.error(
                    "stopping: the Raft log cannot be written ({}); this member starts again once its data"
                            + " directory has room",
                    cause.toString());
            spec.commandLine()
                    .getErr()
                    .println("capstan: stopping: the Raft log cannot be written: " + cause);
            systemd.stopping();
            awaitStop(daemon);
            return ExitCodes.FAILED;
        }
        log.info("received SIG{}, stopping", stopSignal.join());
        systemd.stopping();
        awaitStop(daemon);
        log.info("stopped");
        return ExitCodes.OK;
    }

    private static void awaitStop(Daemon daemon) throws InterruptedException {
        try {
            daemon.stop().get();
        } catch (ExecutionException e) {
            // Stop already logged each component that misbehaved; the process still ends.
            log.warn("stop finished with errors: {}", e.getCause().getMessage());
        }
    }
}
