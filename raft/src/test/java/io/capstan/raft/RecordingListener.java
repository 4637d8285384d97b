package io.capstan.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Records what a watch reports, and checks the listener contract as it goes: calls never overlap,
 * event revisions strictly increase, progress never goes below a reported revision, nothing follows
 * the cancellation. Safe to read from any thread.
 */
class RecordingListener implements WatchListener {
    private final AtomicBoolean inCall = new AtomicBoolean();
    private final List<Long> revisions = new ArrayList<>();
    private final List<WatchEvent> events = new ArrayList<>();
    private final List<Long> progress = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private long highest;
    final CompletableFuture<WatchCanceled> canceled = new CompletableFuture<>();

    @Override
    public void onEvents(long revision, List<WatchEvent> batch) {
        enter();
        try {
            synchronized (this) {
                if (revision <= highest) {
                    violations.add("revision " + revision + " after " + highest);
                }
                if (batch.isEmpty()) {
                    violations.add("empty batch at " + revision);
                }
                for (WatchEvent event : batch) {
                    if (event.revision() != revision) {
                        violations.add(
                                "event of revision " + event.revision() + " in batch " + revision);
                    }
                }
                highest = revision;
                revisions.add(revision);
                events.addAll(batch);
            }
            received(revision, batch);
        } finally {
            leave();
        }
    }

    /** Hook for subclasses, called inside {@link #onEvents} after recording. */
    void received(long revision, List<WatchEvent> batch) {}

    @Override
    public void onProgress(long revision) {
        enter();
        try {
            synchronized (this) {
                if (revision < highest) {
                    violations.add("progress " + revision + " below reported revision " + highest);
                }
                highest = Math.max(highest, revision);
                progress.add(revision);
            }
        } finally {
            leave();
        }
    }

    @Override
    public void onCanceled(WatchCanceled cancellation) {
        enter();
        try {
            if (!canceled.complete(cancellation)) {
                synchronized (this) {
                    violations.add("canceled twice: " + cancellation);
                }
            }
        } finally {
            leave();
        }
    }

    private void enter() {
        if (!inCall.compareAndSet(false, true)) {
            synchronized (this) {
                violations.add("overlapping listener calls");
            }
        }
        if (canceled.isDone()) {
            synchronized (this) {
                violations.add("a call after the cancellation");
            }
        }
    }

    private void leave() {
        inCall.set(false);
    }

    synchronized List<Long> revisions() {
        return List.copyOf(revisions);
    }

    synchronized List<WatchEvent> events() {
        return List.copyOf(events);
    }

    synchronized List<Long> progress() {
        return List.copyOf(progress);
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized int eventCount() {
        return events.size();
    }

    /** The cancellation, if the watch ended. */
    WatchCanceled cancellation() {
        return canceled.getNow(null);
    }
}
