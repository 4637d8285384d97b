package io.capstan.artifacts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One flight per key, driven step by step: who starts work, who joins, what each sees. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class SingleFlightTest {

    @Test
    void callersWhileWorkRunsJoinItAndSeeItsResult() throws Exception {
        ArtifactStats stats = new ArtifactStats();
        SingleFlight<String> flights = new SingleFlight<>(stats);
        AtomicInteger started = new AtomicInteger();
        CompletableFuture<Void> work = new CompletableFuture<>();
        CompletableFuture<Void> first =
                flights.join(
                        "a",
                        () -> {
                            started.incrementAndGet();
                            return work;
                        });
        CompletableFuture<Void> second =
                flights.join(
                        "a",
                        () -> {
                            started.incrementAndGet();
                            return CompletableFuture.completedFuture(null);
                        });
        CompletableFuture<Void> other =
                flights.join(
                        "b",
                        () -> {
                            started.incrementAndGet();
                            return CompletableFuture.completedFuture(null);
                        });
        assertEquals(2, started.get(), "one start for a, one for b");
        assertEquals(1, stats.fetchesShared());
        assertTrue(other.isDone());
        assertTrue(flights.inFlight("a"));
        assertFalse(first.isDone() || second.isDone());

        work.complete(null);
        first.get();
        second.get();
        assertFalse(flights.inFlight("a"));
    }

    @Test
    void joinersSeeTheSameFailureAndTheNextCallerStartsAfresh() throws Exception {
        SingleFlight<String> flights = new SingleFlight<>(new ArtifactStats());
        CompletableFuture<Void> work = new CompletableFuture<>();
        CompletableFuture<Void> first = flights.join("a", () -> work);
        CompletableFuture<Void> second = flights.join("a", CompletableFuture::new);
        IllegalStateException failure = new IllegalStateException("source answered 404");
        work.completeExceptionally(failure);
        assertSame(failure, assertThrows(ExecutionException.class, first::get).getCause());
        assertSame(failure, assertThrows(ExecutionException.class, second::get).getCause());

        AtomicInteger again = new AtomicInteger();
        flights.join(
                        "a",
                        () -> {
                            again.incrementAndGet();
                            return CompletableFuture.completedFuture(null);
                        })
                .get();
        assertEquals(1, again.get());
    }

    @Test
    void workThatThrowsFailsItsFlightAndFreesTheKey() {
        SingleFlight<String> flights = new SingleFlight<>(new ArtifactStats());
        CompletableFuture<Void> failed =
                flights.join(
                        "a",
                        () -> {
                            throw new IllegalArgumentException("bad");
                        });
        assertTrue(failed.isCompletedExceptionally());
        assertFalse(flights.inFlight("a"));
    }
}
