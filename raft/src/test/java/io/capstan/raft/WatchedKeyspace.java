package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * A store, its applier and a watch hub wired the way a member wires them, for tests. The thread
 * that calls {@link #apply} plays the apply thread; {@link #pump} runs the hub on the calling
 * thread, or {@link #startDriver} gives it its own. Every applied revision is also recorded in
 * {@link #log} (read it after the writes), the oracle of what watches should report.
 */
final class WatchedKeyspace implements AppliedChanges {
    final WatchHub hub;
    final List<Handoff.Applied> log = new ArrayList<>();
    private final CommandValidator validator = new CommandValidator(Limits.DEFAULT);
    private MvccStore store = new MvccStore();
    private Applier applier;
    private WatchDriver driver;
    private long logIndex;

    WatchedKeyspace(WatchSettings settings, Clock clock, Executor delivery) {
        hub = new WatchHub("test", settings, clock, delivery);
        install(store);
    }

    MvccStore store() {
        return store;
    }

    CommandResult apply(Command command) {
        validator.validate(command);
        return applier.apply(command, ++logIndex);
    }

    /** Swaps in {@code restored} as a snapshot installation does; later commands apply to it. */
    void install(MvccStore restored) {
        store = restored;
        applier = new Applier(restored, LeaseEvents.NONE, this);
        storeInstalled(restored);
    }

    Watch watch(WatchSpec spec, RecordingListener listener) {
        return hub.watch(spec, listener);
    }

    /** Runs hub passes on this thread until it has nothing ready. */
    void pump() {
        while (hub.runOnce()) {
            // another pass: catch-up work is ready
        }
    }

    void startDriver() {
        driver = new WatchDriver(hub);
        driver.start();
    }

    void stopDriver() {
        if (driver != null) {
            driver.stop("test over", RaftCluster.WAIT);
        }
    }

    @Override
    public void applied(long revision, List<Change> changes) {
        log.add(new Handoff.Applied(revision, List.copyOf(changes)));
        hub.applied(revision, changes);
    }

    @Override
    public void storeInstalled(MvccStore installed) {
        hub.storeInstalled(installed);
    }

    /**
     * What {@code spec} should report from {@code start} on, by the recorded log: events by
     * revision.
     */
    List<Long> expectedRevisions(WatchSpec spec, long start) {
        List<Long> revisions = new ArrayList<>();
        for (Handoff.Applied applied : log) {
            if (applied.revision() >= start && !expectedEvents(spec, applied).isEmpty()) {
                revisions.add(applied.revision());
            }
        }
        return revisions;
    }

    List<WatchEvent> expectedEvents(WatchSpec spec, long start) {
        List<WatchEvent> events = new ArrayList<>();
        for (Handoff.Applied applied : log) {
            if (applied.revision() >= start) {
                events.addAll(expectedEvents(spec, applied));
            }
        }
        return events;
    }

    private static List<WatchEvent> expectedEvents(WatchSpec spec, Handoff.Applied applied) {
        List<WatchEvent> events = new ArrayList<>();
        // In the order the changes were made, as etcd reports them.
        for (Change change : applied.changes()) {
            if (spec.covers(change.key()) && spec.reports(change.type())) {
                events.add(change.toEvent(spec.prevKv()));
            }
        }
        return events;
    }
}
