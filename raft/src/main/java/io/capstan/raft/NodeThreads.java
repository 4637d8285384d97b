package io.capstan.raft;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The executors of one member's own work, named after it (see {@link NamedThreads}). Created with
 * its {@link RaftNode}, which shuts them down when it stops.
 */
final class NodeThreads {
    /**
     * Threads on which this member's own requests complete: enough that one caller waiting in a
     * dependant does not hold up every other reply.
     */
    private static final int REQUEST_THREADS = 2;

    /** Threads answering linearizable reads: reads are CPU work on an immutable store. */
    private static final int READ_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

    /** The leader's lease countdowns: one thread. */
    final ScheduledExecutorService lease;

    /** Joining, publishing and configuration changes, step by step: one thread (see Membership). */
    final ScheduledExecutorService membership;

    /** Replies to this member's own requests and their retries (see {@link RaftRequests}). */
    final ScheduledExecutorService requests;

    /** Answers linearizable reads once their read round is done, off Ratis's threads. */
    final ExecutorService reads;

    /** Calls watch listeners; grows with the listeners busy at once, at most one per watch. */
    final ExecutorService watchDelivery;

    NodeThreads(String nodeId) {
        this.lease =
                Executors.newSingleThreadScheduledExecutor(
                        NamedThreads.named("capstan-lease-" + nodeId));
        ScheduledThreadPoolExecutor members =
                new ScheduledThreadPoolExecutor(1, NamedThreads.named("capstan-members-" + nodeId));
        // Retries still waiting when the node stops are dropped: the stop failed their operations.
        members.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.membership = members;
        this.requests =
                Executors.newScheduledThreadPool(
                        REQUEST_THREADS, NamedThreads.numbered("capstan-requests-" + nodeId));
        this.reads =
                Executors.newFixedThreadPool(
                        READ_THREADS, NamedThreads.numbered("capstan-read-" + nodeId));
        this.watchDelivery =
                Executors.newCachedThreadPool(
                        NamedThreads.numbered("capstan-watch-delivery-" + nodeId));
    }
}
