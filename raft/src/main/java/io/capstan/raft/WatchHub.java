package io.capstan.raft;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member's watches, with etcd's Watch semantics, fed by that member's own apply thread (so a
 * leader change does not touch them).
 *
 * <p><b>Threads and ownership.</b>
 *
 * <ul>
 *   <li>The <em>apply thread</em> calls {@link #applied} and {@link #storeInstalled} after it
 *       published a revision or swapped stores: an offer to the bounded, lock-free {@link Handoff}
 *       and an unpark, nothing per watch, never a wait. With no watch at all it only flags the
 *       revision as dropped, and the hub sleeps on.
 *   <li>Any thread calls {@link #watch}; {@link Watcher#cancel}, {@link Watcher#requestProgress}, a
 *       failing listener and {@link #requestClose} post a request to the lock-free inbox.
 *   <li>The <em>hub thread</em> ({@link WatchDriver}'s, or a test calling {@link #runOnce}) owns
 *       every field marked "hub thread only": the registry of watches, the dispatched revision and
 *       the store it reads history from. It filters each revision for the watches that match and
 *       offers the result to their {@link Outbox}es; it never calls a listener.
 *   <li><em>Delivery threads</em> (the injected executor) run each outbox's drain, one at a time
 *       per watch; a listener that blocks holds up its own watch only.
 * </ul>
 *
 * <p><b>Revisions without gaps or duplicates.</b> The hub has handled every revision up to {@code
 * dispatched}: a <em>synced</em> watch got its events of those from the handoff, a
 * <em>catching-up</em> watch still reads them from the store's history (from its {@code next} up to
 * {@code dispatched}, a window at a time, so live watches never wait long behind a replay). Both
 * happen on the hub thread, so {@code dispatched} cannot move during a read: a watch switches from
 * history to live events exactly at {@code dispatched + 1}. The apply thread hands a revision over
 * only after publishing it, and history is read only up to the published revision, so an event is
 * never reported before its revision is readable. When the handoff overflowed or revisions were
 * skipped while no watch existed (or the apply thread installed a snapshot), the hub jumps {@code
 * dispatched} to the store's revision and turns every synced watch into a catching-up one at the
 * revision it had reached: the store's history covers whatever the handoff lost.
 *
 * <p><b>Compaction.</b> A watch starting below the compact revision, or catching up from below it
 * (checked after each read, as compaction may trim history during it), ends with {@link
 * WatchCanceled.Cause#COMPACTED}. As in etcd, a delete at exactly the compact revision is gone from
 * history and is not replayed to a watch that starts there; a watch that was synced or had read
 * history before, and now needs that revision from history, ends with {@link
 * WatchCanceled.Cause#COMPACTED} instead of skipping it.
 *
 * <p><b>Slow watches.</b> A revision that would take a watch's outbox past {@link
 * WatchSettings#bufferEvents()} ends it with {@link WatchCanceled.Cause#TOO_SLOW}; what is already
 * in its outbox is still delivered first, so its resume revision is exact. A catching-up watch is
 * never canceled for this: the hub just reads on once its listener made room.
 */
final class WatchHub implements AppliedChanges {
    private static final Logger LOG = LoggerFactory.getLogger(WatchHub.class);

    /** Catching-up watches served per pass, so live revisions keep flowing between passes. */
    private static final int CATCH_UP_WATCHES_PER_PASS = 64;

    /**
     * etcd reports the changes of one revision in the order they were made (sub-revision order).
     */
    private static final Comparator<Change> CHANGE_ORDER =
            Comparator.comparingLong(change -> change.version().subRevision());

    private sealed interface Request permits Register, Cancel, AskProgress, ListenerFailed, Close {}

    private record Register(Watcher watcher) implements Request {}

    private record Cancel(Watcher watcher) implements Request {}

    private record AskProgress(Watcher watcher) implements Request {}

    private record ListenerFailed(Watcher watcher, RuntimeException error) implements Request {}

    private record Close(String reason) implements Request {}

    private final String nodeId;
    private final WatchSettings settings;
    private final Clock clock;
    private final Executor delivery;
    private final Handoff handoff;
    private final ConcurrentLinkedQueue<Request> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean storeChanged = new AtomicBoolean();
    private final AtomicInteger active = new AtomicInteger();

    /** Events in every watch's outbox not yet handed to its listener; see {@link Outbox}. */
    private final LongAdder backlog = new LongAdder();

    private final AtomicLong ids = new AtomicLong();
    private volatile MvccStore latest;
    private volatile Thread owner;
    private volatile boolean closed;

    // ---- hub thread only ----
    private MvccStore current;
    private long dispatched;
    private final Map<Long, Watcher> watchers = new HashMap<>();
    private final SyncedWatches synced = new SyncedWatches();
    private final ArrayDeque<Watcher> catchingUp = new ArrayDeque<>();
    private Instant nextProgressTick;

    /**
     * @param clock times progress notifications
     * @param delivery runs listener calls; a listener that blocks holds one of its threads
     */
    WatchHub(String nodeId, WatchSettings settings, Clock clock, Executor delivery) {
        this.nodeId = nodeId;
        this.settings = settings;
        this.clock = clock;
        this.delivery = delivery;
        this.handoff = new Handoff(settings.handoffRevisions());
        this.nextProgressTick = clock.instant().plus(settings.progressInterval());
    }

    String nodeId() {
        return nodeId;
    }

    // ---- metrics: any thread, lock-free ----

    /** Watches open now (registered or about to be, and not ended). */
    int watchCount() {
        return active.get();
    }

    /** Events offered to listeners and not delivered yet, over every watch. */
    long pendingEvents() {
        return backlog.sum();
    }

    /** Revisions the apply thread handed over that this hub has not taken yet. */
    int pendingRevisions() {
        return handoff.size();
    }

    LongAdder backlog() {
        return backlog;
    }

    // ---- apply thread ----

    @Override
    public void applied(long revision, List<Change> changes) {
        if (active.get() == 0) {
            // No watch to tell. The hub treats the revision as dropped, as after an overflow, and
            // catches up from the store when a watch registers; woken for every write, an idle hub
            // cost each member 3,000 context switches a second under load.
            handoff.skip();
            return;
        }
        handoff.offer(new Handoff.Applied(revision, changes));
        wake();
    }

    @Override
    public void storeInstalled(MvccStore store) {
        latest = store;
        storeChanged.set(true);
        wake();
    }

    // ---- any thread ----

    /**
     * Creates a watch; what it reports goes to {@code listener}. A watch beyond {@link
     * WatchSettings#maxWatches()} is returned already canceled.
     *
     * @throws IllegalStateException before the apply thread installed a store
     */
    Watch watch(WatchSpec spec, WatchListener listener) {
        MvccStore store = latest;
        if (store == null) {
            throw new IllegalStateException("member " + nodeId + " has no keyspace to watch yet");
        }
        Watcher watcher =
                new Watcher(
                        this,
                        ids.incrementAndGet(),
                        spec,
                        listener,
                        store.revision(),
                        delivery,
                        settings.bufferEvents());
        if (active.incrementAndGet() > settings.maxWatches()) {
            active.decrementAndGet();
            watcher.outbox.offer(
                    new Outbox.End(WatchCanceled.tooManyWatches(nodeId, settings.maxWatches())));
            return watcher;
        }
        submit(new Register(watcher));
        return watcher;
    }

    void cancel(Watcher watcher) {
        submit(new Cancel(watcher));
    }

    void requestProgress(Watcher watcher) {
        submit(new AskProgress(watcher));
    }

    void listenerFailed(Watcher watcher, RuntimeException error) {
        submit(new ListenerFailed(watcher, error));
    }

    /** Asks the hub thread to end every watch with {@link WatchCanceled.Cause#STOPPED} and stop. */
    void requestClose(String reason) {
        submit(new Close(reason));
    }

    boolean isClosed() {
        return closed;
    }

    /** Wakes the hub thread if it is parked; a no-op when no thread owns the hub. */
    void wake() {
        Thread thread = owner;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    private void submit(Request request) {
        inbox.add(request);
        if (closed) {
            stopLateRegistrations();
        } else {
            wake();
        }
    }

    /**
     * A watch registered after the hub closed never reaches the registry: whichever thread sees its
     * request first (the hub thread closing, or the thread that posted it) ends it.
     */
    private void stopLateRegistrations() {
        Request request;
        while ((request = inbox.poll()) != null) {
            if (request instanceof Register register) {
                Watcher watcher = register.watcher();
                active.decrementAndGet();
                watcher.outbox.offer(
                        new Outbox.End(
                                WatchCanceled.stopped(
                                        "member " + nodeId + " is stopping",
                                        watcher.startRevision())));
            }
        }
    }

    // ---- hub thread ----

    /**
     * Makes {@code thread} the hub thread, the one {@link #wake} unparks. Call before it starts.
     */
    void bindOwner(Thread thread) {
        owner = thread;
    }

    /** Parks the hub thread until woken or the next progress tick is due. */
    void park() {
        long nanos = Duration.between(clock.instant(), nextProgressTick).toNanos();
        if (nanos > 0) {
            LockSupport.parkNanos(this, nanos);
        }
    }

    /**
     * One pass: adopts a new store, dispatches handed-off revisions, serves requests, reads a
     * window of history for catching-up watches, sends due progress notifications.
     *
     * @return whether more work is ready at once (the driver then skips parking)
     */
    boolean runOnce() {
        if (closed) {
            return false;
        }
        boolean newStore = storeChanged.getAndSet(false);
        if (newStore) {
            current = latest;
        }
        if (current == null) {
            return false;
        }
        boolean moreHandedOff = drainHandoff();
        boolean overflowed = handoff.takeOverflow();
        if (overflowed || newStore) {
            resync();
        }
        Request request;
        while (!closed && (request = inbox.poll()) != null) {
            handle(request);
        }
        if (closed) {
            return false;
        }
        boolean moreHistory = catchUp();
        tickProgress(clock.instant());
        return moreHandedOff || moreHistory;
    }

    /**
     * Ends every watch with {@code reason}; the calling thread must be the hub thread, or none
     * runs.
     */
    void closeNow(String reason) {
        if (closed) {
            return;
        }
        closed = true;
        for (Watcher watcher : List.copyOf(watchers.values())) {
            long resume = nextUndelivered(watcher);
            end(watcher, WatchCanceled.stopped(reason, resume));
        }
        stopLateRegistrations();
        LOG.info("[{}] watch hub closed: {}", nodeId, reason);
    }

    private void handle(Request request) {
        if (request instanceof Register register) {
            register(register.watcher());
        } else if (request instanceof Cancel cancel) {
            if (isRegistered(cancel.watcher())) {
                end(cancel.watcher(), WatchCanceled.byClient());
            }
        } else if (request instanceof AskProgress ask) {
            Watcher watcher = ask.watcher();
            if (isRegistered(watcher)) {
                if (watcher.synced) {
                    offerProgress(watcher);
                } else {
                    watcher.progressWanted = true;
                }
            }
        } else if (request instanceof ListenerFailed failed) {
            if (isRegistered(failed.watcher())) {
                end(failed.watcher(), WatchCanceled.listenerFailed(failed.error()));
            }
        } else if (request instanceof Close close) {
            closeNow(close.reason());
        }
    }

    private boolean isRegistered(Watcher watcher) {
        return watchers.get(watcher.id()) == watcher;
    }

    private void register(Watcher watcher) {
        watchers.put(watcher.id(), watcher);
        long compact = current.compactRevision();
        if (watcher.startRevision() < compact) {
            end(watcher, WatchCanceled.compacted(watcher.startRevision(), compact));
        } else if (watcher.startRevision() <= dispatched) {
            catchingUp.add(watcher);
        } else {
            addSynced(watcher);
        }
    }

    /** Dispatches handed-off revisions, a handoff's worth at most; true when it stopped at that. */
    private boolean drainHandoff() {
        for (int i = 0; i < settings.handoffRevisions(); i++) {
            Handoff.Applied applied = handoff.poll();
            if (applied == null) {
                return false;
            }
            long revision = applied.revision();
            if (revision <= dispatched) {
                continue;
            }
            if (revision > dispatched + 1) {
                // Revisions were dropped on the way: every synced watch reads them from history.
                unsyncAll();
            } else {
                dispatch(applied);
            }
            dispatched = revision;
        }
        return true;
    }

    /**
     * After an overflow or a new store: whatever the store holds beyond the handoff comes from
     * history.
     */
    private void resync() {
        long revision = current.revision();
        if (revision > dispatched) {
            unsyncAll();
            dispatched = revision;
        }
    }

    private void unsyncAll() {
        for (Watcher watcher : synced.removeAll()) {
            watcher.next = Math.max(watcher.startRevision(), dispatched + 1);
            catchingUp.add(watcher);
        }
    }

    private void addSynced(Watcher watcher) {
        synced.add(watcher);
        if (watcher.progressWanted) {
            watcher.progressWanted = false;
            offerProgress(watcher);
        }
    }

    /** Offers revision {@code applied} to every synced watch it concerns. */
    private void dispatch(Handoff.Applied applied) {
        synced.eventsOf(applied)
                .forEach((watcher, events) -> offerLive(watcher, applied.revision(), events));
    }

    private void offerLive(Watcher watcher, long revision, List<WatchEvent> events) {
        if (overflows(watcher, events.size(), revision)) {
            return;
        }
        watcher.outbox.offer(new Outbox.Events(revision, List.copyOf(events)));
        watcher.quiet = false;
    }

    private void offerProgress(Watcher watcher) {
        // Nothing below the start revision is due, and nothing up to dispatched is left to offer.
        watcher.outbox.offerProgress(
                Math.max(
                        dispatched,
                        Math.min(watcher.createdRevision(), watcher.startRevision() - 1)));
    }

    /** Ends {@code watcher} as too slow when {@code events} more would overflow its buffer. */
    private boolean overflows(Watcher watcher, int events, long resume) {
        int pending = watcher.outbox.pending();
        if (pending == 0 || pending + events <= settings.bufferEvents()) {
            return false;
        }
        end(watcher, WatchCanceled.tooSlow(pending, settings.bufferEvents(), resume));
        return true;
    }

    /** Serves catching-up watches, at most {@link #CATCH_UP_WATCHES_PER_PASS} that can progress. */
    private boolean catchUp() {
        int waiting = catchingUp.size();
        int budget = CATCH_UP_WATCHES_PER_PASS;
        boolean progressed = false;
        for (int i = 0; i < waiting && budget > 0; i++) {
            Watcher watcher = catchingUp.poll();
            if (catchUpOne(watcher)) {
                progressed = true;
                budget--;
            }
            if (!watcher.ended && !watcher.synced) {
                catchingUp.add(watcher);
            }
        }
        return progressed && !catchingUp.isEmpty();
    }

    /** Reads one window of history for {@code watcher}; false when it could not progress. */
    private boolean catchUpOne(Watcher watcher) {
        if (!hasRoom(watcher)) {
            return false;
        }
        long from = watcher.next;
        long to =
                Math.min(
                        dispatched,
                        Math.min(current.revision(), from + settings.catchUpRevisions() - 1));
        if (to < from) {
            return false;
        }
        SortedMap<Long, List<Change>> history = readHistory(watcher.spec, from, to);
        long compact = current.compactRevision();
        if (from < compact || (from == compact && owesDroppedDeletes(watcher, from))) {
            end(watcher, WatchCanceled.compacted(from, compact));
            return true;
        }
        watcher.next = to + 1;
        for (Map.Entry<Long, List<Change>> revision : history.entrySet()) {
            if (watcher.outbox.pending() >= settings.bufferEvents()) {
                watcher.next = revision.getKey();
                break;
            }
            List<WatchEvent> events = new ArrayList<>();
            for (Change change : revision.getValue()) {
                if (watcher.spec.reports(change.type())) {
                    events.add(change.toEvent(watcher.spec.prevKv()));
                }
            }
            if (!events.isEmpty()) {
                watcher.outbox.offer(new Outbox.Events(revision.getKey(), List.copyOf(events)));
                watcher.quiet = false;
            }
        }
        if (watcher.next > dispatched) {
            addSynced(watcher);
        }
        return true;
    }

    /**
     * Whether {@code watcher} is owed the deletes at {@code from} that a compaction at exactly
     * {@code from} dropped from history. As in etcd, a watch the client started there is not; one
     * that was already reading or synced before is, so reading on would skip them unseen.
     */
    private static boolean owesDroppedDeletes(Watcher watcher, long from) {
        return from > watcher.startRevision() || watcher.wasSynced;
    }

    private boolean hasRoom(Watcher watcher) {
        if (watcher.outbox.pending() < settings.bufferEvents()) {
            return true;
        }
        watcher.outbox.wakeWhenRoom();
        return watcher.outbox.pending() < settings.bufferEvents();
    }

    /**
     * The changes in {@code spec}'s range at revisions {@code from..to}, by revision, each in the
     * order made.
     */
    private SortedMap<Long, List<Change>> readHistory(WatchSpec spec, long from, long to) {
        SortedMap<Long, List<Change>> byRevision = new TreeMap<>();
        current.scanHistories(
                spec.key(),
                spec.rangeEnd(),
                (key, history) ->
                        history.forEachBetween(
                                from,
                                to,
                                (version, prior) ->
                                        byRevision
                                                .computeIfAbsent(
                                                        version.modRevision(),
                                                        r -> new ArrayList<>())
                                                .add(new Change(key, version, prior))));
        byRevision.values().forEach(changes -> changes.sort(CHANGE_ORDER));
        return byRevision;
    }

    private void tickProgress(Instant now) {
        if (now.isBefore(nextProgressTick)) {
            return;
        }
        nextProgressTick = now.plus(settings.progressInterval());
        for (Watcher watcher : List.copyOf(watchers.values())) {
            if (watcher.synced && watcher.spec.progressNotify() && watcher.quiet) {
                offerProgress(watcher);
            }
            watcher.quiet = true;
        }
    }

    /** The first revision {@code watcher} has not been given yet. */
    private long nextUndelivered(Watcher watcher) {
        return watcher.synced ? Math.max(watcher.startRevision(), dispatched + 1) : watcher.next;
    }

    private void end(Watcher watcher, WatchCanceled canceled) {
        if (watcher.ended) {
            return;
        }
        watcher.ended = true;
        watchers.remove(watcher.id());
        if (watcher.synced) {
            synced.remove(watcher);
        } else {
            catchingUp.remove(watcher);
        }
        active.decrementAndGet();
        watcher.outbox.offer(new Outbox.End(canceled));
        if (canceled.cause() == WatchCanceled.Cause.CANCELED) {
            LOG.debug("[{}] {} canceled by its client", nodeId, watcher);
        } else {
            LOG.info("[{}] {} ended: {}", nodeId, watcher, canceled.reason());
        }
    }
}
