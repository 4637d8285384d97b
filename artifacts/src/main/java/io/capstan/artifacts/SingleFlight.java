package io.capstan.artifacts;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * At most one piece of work per key at a time: a caller that asks for a key while its work runs
 * joins it and gets the same result or the same failure; once it completes, the next caller starts
 * afresh. A joiner is counted in {@link ArtifactStats#fetchesShared()}.
 *
 * <p>Threading: any thread. The map of flights is concurrent, and the flight for a key is created
 * inside {@link ConcurrentHashMap#computeIfAbsent}, so two callers can never both start one; work
 * is started outside that call, on the thread of the caller that created the flight.
 */
final class SingleFlight<K> {
    private final Map<K, CompletableFuture<Void>> flights = new ConcurrentHashMap<>();
    private final ArtifactStats stats;

    SingleFlight(ArtifactStats stats) {
        this.stats = stats;
    }

    /**
     * The flight of {@code key}: the one under way, or a new one whose work {@code work} starts.
     * The returned future completes as the work's does; cancelling it cancels nothing else.
     */
    CompletableFuture<Void> join(K key, Supplier<CompletableFuture<Void>> work) {
        CompletableFuture<Void> created = new CompletableFuture<>();
        CompletableFuture<Void> flight = flights.computeIfAbsent(key, k -> created);
        if (flight != created) {
            stats.shared();
            return flight.copy();
        }
        CompletableFuture<Void> started;
        try {
            started = work.get();
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        started.whenComplete(
                (done, error) -> {
                    // Removed before completing, so a caller woken by the result that asks again
                    // starts anew.
                    flights.remove(key, created);
                    if (error != null) {
                        created.completeExceptionally(error);
                    } else {
                        created.complete(null);
                    }
                });
        return created.copy();
    }

    /** Whether work for {@code key} is under way. */
    boolean inFlight(K key) {
        return flights.containsKey(key);
    }

    /** The keys whose work is under way. */
    Set<K> keys() {
        return Set.copyOf(flights.keySet());
    }
}
