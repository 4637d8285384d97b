package io.capstan.controller.systemd;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd what the daemon is doing, for {@code Type=notify} units:
 *
 * <ul>
 *   <li>{@code READY=1} with {@code MAINPID} and a first {@code STATUS}, on {@link #ready()}: when
 *       every lifecycle component runs. It never waits for a Raft quorum or leader, so the first
 *       member of a cold cluster does not hold up systemd while its peers are still down;
 *   <li>{@code STATUS=} with the status line (Raft role, leader, term) whenever it changes, checked
 *       every {@link #STATUS_PERIOD} from {@code READY=1} on;
 *   <li>{@code WATCHDOG=1} every half {@code WATCHDOG_USEC} from {@code READY=1} on, but only after
 *       the {@link HealthProbe} found the daemon healthy; a probe still running when the next tick
 *       comes is not doubled up, so a hung daemon simply stops pinging;
 *   <li>{@code STOPPING=1} on {@link #stopping()}, when the orderly stop begins; status updates and
 *       pings end there, as systemd stops watching.
 * </ul>
 *
 * <p>Without {@code NOTIFY_SOCKET} every method does nothing. A failed send is logged once (later
 * ones at debug) and never stops the daemon: systemd notices a missing {@code READY=1} or ping on
 * its own.
 *
 * <p>Threading: the public methods may be called from any thread; they only queue tasks on the
 * notifier's single-thread scheduled executor, which owns the socket and every field below. The
 * probe's completion hops back onto that executor before anything is read or written.
 */
public final class SystemdNotifier implements AutoCloseable {
    /** How often the status line is compared with the one last sent. */
    static final Duration STATUS_PERIOD = Duration.ofSeconds(1);

    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotifier.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final NotifySocket socket;
    private final Optional<Duration> watchdogInterval;
    private final HealthProbe health;
    private final Supplier<String> status;
    private final long pid;
    private final ScheduledExecutorService executor;
    private final Duration statusPeriod;

    // Owned by the executor's thread.
    private final List<ScheduledFuture<?>> periodic = new ArrayList<>();
    private String lastStatus;
    private boolean readySent;
    private boolean probing;
    private boolean stopped;
    private boolean unhealthy;
    private boolean sendFailed;

    /**
     * @param socket where notifications go; null for an inert notifier (then {@code executor} is
     *     null too)
     * @param executor single-threaded, owned from here on: {@link #close()} shuts it down
     * @param statusPeriod how often the status line is compared with the one last sent
     */
    SystemdNotifier(
            NotifySocket socket,
            Optional<Duration> watchdogInterval,
            HealthProbe health,
            Supplier<String> status,
            long pid,
            ScheduledExecutorService executor,
            Duration statusPeriod) {
        this.socket = socket;
        this.watchdogInterval = watchdogInterval;
        this.health = health;
        this.status = status;
        this.pid = pid;
        this.executor = executor;
        this.statusPeriod = statusPeriod;
    }

    /**
     * A notifier for this process as systemd started it; inert without {@code NOTIFY_SOCKET}.
     *
     * @param env the process environment
     * @param health decides whether a watchdog ping is deserved
     * @param status the one-line status; called on the notifier thread, must not block
     */
    public static SystemdNotifier fromEnvironment(
            Map<String, String> env, HealthProbe health, Supplier<String> status) {
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(status, "status");
        long pid = ProcessHandle.current().pid();
        NotifyEnvironment parsed = NotifyEnvironment.parse(env, pid);
        parsed.problems().forEach(problem -> LOG.warn("systemd: {}", problem));
        if (parsed.socket().isEmpty()) {
            return new SystemdNotifier(
                    null, Optional.empty(), health, status, pid, null, STATUS_PERIOD);
        }
        LOG.info(
                "systemd: notifying {}{}",
                parsed.socket().get(),
                parsed.watchdogInterval()
                        .map(i -> ", watchdog ping every " + i.toMillis() + " ms")
                        .orElse(", no watchdog"));
        return new SystemdNotifier(
                new NotifySocket(parsed.socket().get()),
                parsed.watchdogInterval(),
                health,
                status,
                pid,
                ownExecutor(),
                STATUS_PERIOD);
    }

    private static ScheduledExecutorService ownExecutor() {
        ScheduledThreadPoolExecutor executor =
                new ScheduledThreadPoolExecutor(
                        1,
                        task -> {
                            Thread thread = new Thread(task, "systemd-notify");
                            thread.setDaemon(true);
                            return thread;
                        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return executor;
    }

    /** Sends {@code READY=1}; starts the status updates and the watchdog. */
    public void ready() {
        post(this::onReady);
    }

    /** Sends {@code STOPPING=1}; ends the status updates and the watchdog. */
    public void stopping() {
        post(this::onStopping);
    }

    /** Sends what is still queued, closes the socket and ends the notifier's thread. Idempotent. */
    @Override
    public void close() {
        if (executor == null || executor.isShutdown()) {
            return;
        }
        post(this::onClose);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("systemd: notifier did not finish within {} ms", CLOSE_WAIT.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void post(Runnable task) {
        if (executor == null) {
            return;
        }
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("systemd: notifier closed; dropping a notification");
        }
    }

    private void onReady() {
        if (stopped || readySent) {
            return;
        }
        readySent = true;
        lastStatus = currentStatus().orElse("running");
        send(Messages.ready(pid, lastStatus));
        periodic.add(
                executor.scheduleWithFixedDelay(
                        this::onStatusTick,
                        statusPeriod.toNanos(),
                        statusPeriod.toNanos(),
                        TimeUnit.NANOSECONDS));
        watchdogInterval.ifPresent(
                interval ->
                        periodic.add(
                                executor.scheduleAtFixedRate(
                                        this::onWatchdogTick,
                                        0,
                                        interval.toNanos(),
                                        TimeUnit.NANOSECONDS)));
    }

    private void onStatusTick() {
        currentStatus()
                .filter(line -> !line.equals(lastStatus))
                .ifPresent(
                        line -> {
                            lastStatus = line;
                            send(Messages.status(line));
                        });
    }

    private void onWatchdogTick() {
        if (probing || stopped) {
            return;
        }
        probing = true;
        // Half the interval, so a verdict lands well before the ping after it would be due.
        Duration timeout = watchdogInterval.orElseThrow().dividedBy(2);
        try {
            health.probe(timeout)
                    .whenComplete((problem, error) -> post(() -> onProbed(problem, error)));
        } catch (RuntimeException e) {
            onProbed(null, e);
        }
    }

    private void onProbed(Optional<String> problem, Throwable error) {
        probing = false;
        if (stopped) {
            return;
        }
        Optional<String> reason =
                error != null ? Optional.of("health probe failed: " + error) : problem;
        if (reason.isEmpty()) {
            if (unhealthy) {
                LOG.info("systemd: healthy again; watchdog pings resume");
                unhealthy = false;
            }
            send(Messages.WATCHDOG);
        } else if (!unhealthy) {
            unhealthy = true;
            LOG.warn("systemd: withholding the watchdog ping: {}", reason.get());
        }
    }

    private void onStopping() {
        if (stopped) {
            return;
        }
        stopped = true;
        cancelPeriodic();
        send(Messages.STOPPING);
    }

    private void onClose() {
        stopped = true;
        cancelPeriodic();
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("systemd: closing the notification socket failed", e);
        }
    }

    private void cancelPeriodic() {
        periodic.forEach(task -> task.cancel(false));
        periodic.clear();
    }

    private Optional<String> currentStatus() {
        try {
            return Optional.ofNullable(status.get()).map(Messages::oneLine);
        } catch (RuntimeException e) {
            LOG.debug("systemd: status line unavailable", e);
            return Optional.empty();
        }
    }

    private void send(String message) {
        try {
            socket.send(message);
        } catch (IOException | RuntimeException | LinkageError e) {
            // LinkageError: junixsocket's native library could not be loaded on this machine.
            if (!sendFailed) {
                sendFailed = true;
                LOG.warn(
                        "systemd: cannot notify {} (further failures are logged at debug): {}",
                        socket.address(),
                        e.toString());
            } else {
                LOG.debug("systemd: cannot notify {}: {}", socket.address(), e.toString());
            }
        }
    }
}
