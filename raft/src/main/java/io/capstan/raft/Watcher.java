package io.capstan.raft;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One watch: its immutable identity, its {@link Outbox}, and the position the hub keeps for it.
 *
 * <p><b>Threads.</b> The final fields are safe anywhere; {@link #cancel} and {@link
 * #requestProgress} only post a request to the hub. The fields below "hub thread only" belong to
 * the hub thread.
 *
 * <p><b>States</b> (hub thread): registered watches are either <em>catching up</em>, reading
 * revisions {@code next .. dispatched} from the store's history, or <em>synced</em>, fed each
 * revision the hub dispatches. A catching-up watch becomes synced once {@code next} passes the
 * hub's dispatched revision; every synced watch goes back to catching up when the hub loses the
 * thread of live revisions (a handoff overflow or a new store). Either ends once, in {@link
 * WatchHub}'s {@code end}.
 */
final class Watcher implements Watch {
    private final WatchHub hub;
    private final long id;
    private final long createdRevision;
    private final long startRevision;
    private final AtomicBoolean cancelRequested = new AtomicBoolean();
    final WatchSpec spec;
    final Outbox outbox;

    // ---- hub thread only ----
    /** While catching up: the next revision to read from history. */
    long next;

    boolean synced;

    /** Was synced at some point, so promised every revision from then on. */
    boolean wasSynced;

    boolean ended;

    /** No events were offered since the last progress tick. */
    boolean quiet = true;

    /** A progress report was asked for while catching up; sent once synced. */
    boolean progressWanted;

    Watcher(
            WatchHub hub,
            long id,
            WatchSpec spec,
            WatchListener listener,
            long createdRevision,
            Executor delivery,
            int bufferEvents) {
        this.hub = hub;
        this.id = id;
        this.spec = spec;
        this.createdRevision = createdRevision;
        this.startRevision = spec.startRevision() == 0 ? createdRevision + 1 : spec.startRevision();
        this.next = startRevision;
        this.outbox =
                new Outbox(
                        hub.nodeId() + " watch " + id,
                        listener,
                        delivery,
                        bufferEvents / 2,
                        hub::wake,
                        e -> hub.listenerFailed(this, e),
                        hub.backlog());
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public long createdRevision() {
        return createdRevision;
    }

    @Override
    public long startRevision() {
        return startRevision;
    }

    @Override
    public void cancel() {
        if (cancelRequested.compareAndSet(false, true)) {
            outbox.discard();
            hub.cancel(this);
        }
    }

    @Override
    public void requestProgress() {
        hub.requestProgress(this);
    }

    boolean singleKey() {
        return spec.rangeEnd().isEmpty();
    }

    @Override
    public String toString() {
        return "watch " + id + " from revision " + startRevision;
    }
}
