package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.LeaseExpireRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives {@link LeaseDeadlines} on one member: receives lease events from the apply thread and
 * leadership changes from Ratis, and while this member leads, proposes a {@code LeaseExpire}
 * command for leases whose countdown ended. Expiry reaches every replica through the log, so all
 * agree on when a lease ended; only the leader's clock ({@code clock}) decides.
 *
 * <p>Threading: every access to the deadlines runs on {@code executor} (one thread), so they have
 * one owner; the public-facing methods only enqueue. Events arriving after the executor has shut
 * down are dropped: the member is stopping and a new leader restarts all countdowns.
 */
final class LeaseExpiry implements LeaseEvents {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseExpiry.class);

    private final LeaseDeadlines deadlines = new LeaseDeadlines();
    private final ScheduledExecutorService executor;
    private final Clock clock;
    private final Duration checkInterval;
    private final Supplier<Map<Long, Long>> currentLeases;
    private final Function<Command, CompletableFuture<?>> proposer;
    private final String nodeId;

    /**
     * @param currentLeases the applied lease table, id to granted TTL (read when becoming leader)
     * @param proposer submits a command to the log
     */
    LeaseExpiry(
            String nodeId,
            ScheduledExecutorService executor,
            Clock clock,
            Duration checkInterval,
            Supplier<Map<Long, Long>> currentLeases,
            Function<Command, CompletableFuture<?>> proposer) {
        this.nodeId = nodeId;
        this.executor = executor;
        this.clock = clock;
        this.checkInterval = checkInterval;
        this.currentLeases = currentLeases;
        this.proposer = proposer;
    }

    void start() {
        long millis = checkInterval.toMillis();
        executor.scheduleWithFixedDelay(this::tick, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Called by Ratis when the leader changes; {@code self} when this member became leader. */
    void leaderChanged(boolean self) {
        submit(
                () -> {
                    if (self) {
                        deadlines.activate(currentLeases.get(), clock.instant());
                        LOG.info("[{}] leading: lease countdowns restarted", nodeId);
                    } else {
                        deadlines.deactivate();
                    }
                });
    }

    @Override
    public void granted(long id, long ttlSeconds) {
        submit(() -> deadlines.restart(id, ttlSeconds, clock.instant()));
    }

    @Override
    public void renewed(long id, long ttlSeconds) {
        submit(() -> deadlines.restart(id, ttlSeconds, clock.instant()));
    }

    @Override
    public void revoked(long id) {
        submit(() -> deadlines.revoked(id));
    }

    /** Seconds left on the lease by this member's countdown, or -1 when it keeps none for it. */
    CompletableFuture<Long> remainingSeconds(long id) {
        try {
            return CompletableFuture.supplyAsync(
                    () -> deadlines.remainingSeconds(id, clock.instant()), executor);
        } catch (RejectedExecutionException stopping) {
            return CompletableFuture.completedFuture(-1L);
        }
    }

    private void tick() {
        List<Long> due =
                deadlines.due(
                        clock.instant(),
                        CommandValidator.MAX_EXPIRE_IDS,
                        checkInterval.multipliedBy(10));
        if (due.isEmpty()) {
            return;
        }
        LOG.debug("[{}] proposing expiry of leases {}", nodeId, due);
        Command expire =
                Command.newBuilder()
                        .setLeaseExpire(LeaseExpireRequest.newBuilder().addAllIds(due))
                        .build();
        proposer.apply(expire)
                .whenComplete(
                        (result, failure) -> {
                            if (failure != null) {
                                LOG.info(
                                        "[{}] lease expiry proposal failed, will retry while leading: {}",
                                        nodeId,
                                        failure.toString());
                            }
                        });
    }

    private void submit(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException stopping) {
            LOG.debug("[{}] lease event dropped: stopping", nodeId);
        }
    }
}
