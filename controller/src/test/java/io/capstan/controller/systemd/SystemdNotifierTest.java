package io.capstan.controller.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The notifier against a real bound AF_UNIX datagram socket, with a health probe the test controls.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SystemdNotifierTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration FAST = Duration.ofMillis(20);
    private static final long PID = 4242;

    @TempDir java.nio.file.Path dir;

    private NotifyReceiver systemd;
    private ScheduledThreadPoolExecutor executor;
    private final AtomicReference<String> status =
            new AtomicReference<>("raft leader, leader n1, term 1");
    private final AtomicInteger statusReads = new AtomicInteger();
    private final AtomicReference<Optional<String>> verdict =
            new AtomicReference<>(Optional.empty());
    private final AtomicInteger probes = new AtomicInteger();

    @BeforeEach
    void bind() throws Exception {
        systemd = NotifyReceiver.bind(dir.resolve("notify.sock"));
        executor = new ScheduledThreadPoolExecutor(1);
    }

    @AfterEach
    void unbind() throws Exception {
        executor.shutdownNow();
        systemd.close();
    }

    private SystemdNotifier notifier(Optional<Duration> watchdog, HealthProbe health) {
        return new SystemdNotifier(
                new NotifySocket(NotifyAddress.parse(systemd.notifySocket())),
                watchdog,
                health,
                () -> {
                    statusReads.incrementAndGet();
                    return status.get();
                },
                PID,
                executor,
                FAST);
    }

    private HealthProbe controlledProbe() {
        return timeout -> {
            probes.incrementAndGet();
            return CompletableFuture.completedFuture(verdict.get());
        };
    }

    @Test
    void readyNamesTheMainPidAndTheFirstStatus() throws Exception {
        SystemdNotifier notifier = notifier(Optional.empty(), controlledProbe());
        notifier.ready();
        assertEquals(
                "READY=1\nMAINPID=4242\nSTATUS=raft leader, leader n1, term 1", systemd.next(WAIT));
        notifier.ready();
        notifier.close();
        assertEquals(Optional.empty(), systemd.poll(), "READY=1 is sent once");
    }

    @Test
    void statusIsSentWhenItChangesAndOnlyThen() throws Exception {
        SystemdNotifier notifier = notifier(Optional.empty(), controlledProbe());
        notifier.ready();
        systemd.next(WAIT);
        status.set("raft follower, leader n2, term 2");
        assertEquals("STATUS=raft follower, leader n2, term 2", systemd.next(WAIT));
        awaitMore(statusReads, 3);
        assertEquals(Optional.empty(), systemd.poll(), "an unchanged status is not repeated");
        status.set("two\nlines");
        assertEquals("STATUS=two lines", systemd.next(WAIT));
        notifier.close();
    }

    @Test
    void watchdogPingsOnlyWhileHealthy() throws Exception {
        SystemdNotifier notifier = notifier(Optional.of(FAST), controlledProbe());
        notifier.ready();
        assertTrue(systemd.next(WAIT).startsWith("READY=1"));
        assertEquals("WATCHDOG=1", systemd.next(WAIT));
        assertEquals("WATCHDOG=1", systemd.next(WAIT));

        verdict.set(Optional.of("the web layer does not answer"));
        // The first probe after the switch is unhealthy; once a second one runs, the verdicts of
        // every earlier probe have been acted on, so what is queued now is all they sent.
        awaitMore(probes, 2);
        while (systemd.poll().isPresent()) {
            // drain the pings of probes that ran before the switch
        }
        awaitMore(probes, 3);
        assertEquals(Optional.empty(), systemd.poll(), "no ping while unhealthy");

        verdict.set(Optional.empty());
        assertEquals("WATCHDOG=1", systemd.next(WAIT), "pings resume once healthy");
        notifier.close();
    }

    @Test
    void aProbeStillRunningIsNotDoubledUp() throws Exception {
        CompletableFuture<Optional<String>> pending = new CompletableFuture<>();
        SystemdNotifier notifier =
                notifier(
                        Optional.of(FAST),
                        timeout -> {
                            probes.incrementAndGet();
                            return probes.get() == 1
                                    ? pending
                                    : CompletableFuture.completedFuture(Optional.empty());
                        });
        notifier.ready();
        assertTrue(systemd.next(WAIT).startsWith("READY=1"));
        // Status checks share the watchdog's period and thread: several watchdog ticks pass
        // meanwhile.
        awaitMore(statusReads, 5);
        assertEquals(1, probes.get(), "no second probe while the first is unanswered");
        assertEquals(Optional.empty(), systemd.poll(), "and no ping");
        pending.complete(Optional.empty());
        assertEquals("WATCHDOG=1", systemd.next(WAIT));
        awaitMore(probes, 1);
        notifier.close();
    }

    @Test
    void stoppingIsSentAndEndsPingsAndStatus() throws Exception {
        SystemdNotifier notifier = notifier(Optional.of(FAST), controlledProbe());
        notifier.ready();
        systemd.until("WATCHDOG=1"::equals, WAIT);
        notifier.stopping();
        systemd.until("STOPPING=1\nSTATUS=stopping"::equals, WAIT);
        status.set("raft follower, no leader, term 9");
        notifier.close();
        assertEquals(Optional.empty(), systemd.poll(), "nothing after STOPPING=1");
    }

    @Test
    void abstractSocketFromTheEnvironment() throws Exception {
        String name = "capstan-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver named = NotifyReceiver.bindAbstract(name);
                SystemdNotifier notifier =
                        SystemdNotifier.fromEnvironment(
                                Map.of("NOTIFY_SOCKET", named.notifySocket()),
                                controlledProbe(),
                                status::get)) {
            notifier.ready();
            assertEquals(
                    "READY=1\nMAINPID="
                            + ProcessHandle.current().pid()
                            + "\nSTATUS=raft leader, leader n1, term 1",
                    named.next(WAIT));
            notifier.stopping();
            assertEquals("STOPPING=1\nSTATUS=stopping", named.next(WAIT));
        }
    }

    @Test
    void withoutNotifySocketNothingRuns() {
        try (SystemdNotifier notifier =
                SystemdNotifier.fromEnvironment(
                        Map.of("WATCHDOG_USEC", "2000"),
                        controlledProbe(),
                        () -> {
                            statusReads.incrementAndGet();
                            return "unused";
                        })) {
            notifier.ready();
            notifier.stopping();
        }
        assertEquals(0, statusReads.get());
        assertEquals(0, probes.get());
    }

    @Test
    void failedSendsAreLoggedOnceAndNeverFatal() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(SystemdNotifier.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            SystemdNotifier notifier =
                    new SystemdNotifier(
                            new NotifySocket(
                                    NotifyAddress.parse(dir.resolve("nobody-listens").toString())),
                            Optional.of(FAST),
                            controlledProbe(),
                            status::get,
                            PID,
                            executor,
                            FAST);
            notifier.ready();
            awaitMore(probes, 3);
            notifier.stopping();
            notifier.close();
            List<ILoggingEvent> warnings =
                    log.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(
                    warnings.get(0).getFormattedMessage().contains("nobody-listens"),
                    warnings.get(0).getFormattedMessage());
        } finally {
            logger.detachAppender(log);
        }
    }

    /** Waits (bounded) until {@code counter} has risen by {@code more} from now. */
    private static void awaitMore(AtomicInteger counter, int more) throws InterruptedException {
        int target = counter.get() + more;
        awaitTrue(() -> counter.get() - target);
    }

    private static void awaitTrue(IntSupplier shortfall) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (shortfall.getAsInt() < 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + WAIT);
            }
            Thread.sleep(5);
        }
    }
}
