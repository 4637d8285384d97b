package io.capstan.artifacts;

import static io.capstan.artifacts.ContentStoreTest.bytes;
import static io.capstan.artifacts.ContentStoreTest.digestOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.transport.MemberCredentials;
import io.capstan.transport.TransportSettings;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FetcherTest {
    static final MemberCredentials CREDENTIALS =
            MemberCredentials.of(
                    new TransportSettings(
                            "0123456789abcdef0123".getBytes(StandardCharsets.US_ASCII),
                            Duration.ofSeconds(5),
                            64L << 20,
                            Duration.ofSeconds(3)));

    @TempDir Path dir;
    private TestSource source;
    private ScheduledExecutorService timer;
    private ExecutorService http;
    private ArtifactStats stats;
    private ContentStore store;
    private final List<Duration> waits = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        source = new TestSource();
        timer = Executors.newSingleThreadScheduledExecutor();
        http = Executors.newFixedThreadPool(2);
        stats = new ArtifactStats();
        store = new ContentStore(dir, stats);
        store.open();
    }

    @AfterEach
    void tearDown() {
        source.close();
        timer.shutdownNow();
        http.shutdownNow();
    }

    private Fetcher fetcher(Duration idle, int attempts) {
        FetchSettings settings =
                new FetchSettings(
                        2,
                        Duration.ofSeconds(2),
                        idle,
                        Duration.ofMinutes(1),
                        attempts,
                        Duration.ofMillis(100),
                        Duration.ofSeconds(2),
                        Duration.ofMinutes(1));
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(http).build();
        return new Fetcher(
                settings, client, client, CREDENTIALS, timer, () -> 1.0, waits::add, stats);
    }

    private static Fetcher.Source from(TestSource source, String path, boolean peer) {
        return new Fetcher.Source(source.url(path), peer);
    }

    @Test
    void bytesFromTheSourceAreStoredAndCounted() throws Exception {
        byte[] data = bytes(3 << 20, 1);
        Digest digest = digestOf(data);
        source.serve("/a", data);
        AtomicLong progress = new AtomicLong();
        Path path =
                fetcher(Duration.ofSeconds(10), 3)
                        .fetch(
                                store,
                                digest,
                                0,
                                1L << 30,
                                List.of(from(source, "/a", false)),
                                progress::set);
        assertArrayEquals(data, Files.readAllBytes(path));
        assertEquals(data.length, progress.get());
        assertEquals(data.length, stats.bytesFromSources());
        assertEquals(1, source.requests("/a"));
        assertEquals(List.of(""), source.peerSecrets("/a"));
    }

    @Test
    void failuresWorthAnotherTryAreRetriedWithDoublingWaits() throws Exception {
        byte[] data = bytes(1000, 2);
        source.serve("/a", data);
        source.failFirst("/a", 503, 500, 429);
        fetcher(Duration.ofSeconds(10), 4)
                .fetch(
                        store,
                        digestOf(data),
                        0,
                        1L << 30,
                        List.of(from(source, "/a", false)),
                        n -> {});
        assertEquals(4, source.requests("/a"));
        assertEquals(
                List.of(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400)),
                waits);
        assertTrue(store.contains(digestOf(data)));
    }

    @Test
    void aRefusalIsNotRetriedAndTheErrorNamesEverySource() throws Exception {
        Digest digest = digestOf(bytes(10, 3));
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                fetcher(Duration.ofSeconds(10), 4)
                                        .fetch(
                                                store,
                                                digest,
                                                0,
                                                1L << 30,
                                                List.of(from(source, "/missing", false)),
                                                n -> {}));
        assertEquals(1, source.requests("/missing"));
        assertTrue(
                e.getMessage().contains("HTTP 404")
                        && e.getMessage().contains(source.url("/missing").toString()),
                e.getMessage());
        assertFalse(store.contains(digest));
    }

    @Test
    void aSourceServingOtherBytesIsAnErrorAndNothingIsStored() throws Exception {
        byte[] wanted = bytes(5000, 4);
        source.serve("/a", bytes(5000, 5));
        Digest digest = digestOf(wanted);
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                fetcher(Duration.ofSeconds(10), 4)
                                        .fetch(
                                                store,
                                                digest,
                                                0,
                                                1L << 30,
                                                List.of(from(source, "/a", false)),
                                                n -> {}));
        assertEquals(ArtifactException.Kind.DIGEST_MISMATCH, e.kind());
        assertTrue(e.getMessage().contains("not " + digest), e.getMessage());
        assertEquals(1, source.requests("/a"), "a digest mismatch is not worth another try");
        assertEquals(List.of(), store.list());
        assertEquals(1, stats.verifyFailures());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void moreBytesThanTheLimitAreRefusedBeforeTheyAreRead() throws Exception {
        byte[] data = bytes(100_000, 6);
        source.serve("/a", data);
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                fetcher(Duration.ofSeconds(10), 4)
                                        .fetch(
                                                store,
                                                digestOf(data),
                                                0,
                                                50_000,
                                                List.of(from(source, "/a", false)),
                                                n -> {}));
        assertEquals(ArtifactException.Kind.TOO_LARGE, e.kind());
        assertEquals(1, source.requests("/a"));
        assertEquals(List.of(), store.list());
    }

    @Test
    void aStalledDownloadTimesOutAndIsRetried() throws Exception {
        byte[] data = bytes(200_000, 7);
        source.serve("/a", data);
        source.stall("/a");
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                fetcher(Duration.ofMillis(500), 2)
                                        .fetch(
                                                store,
                                                digestOf(data),
                                                0,
                                                1L << 30,
                                                List.of(from(source, "/a", false)),
                                                n -> {}));
        assertEquals(ArtifactException.Kind.UNAVAILABLE, e.kind());
        assertTrue(e.getMessage().contains("no bytes arrived"), e.getMessage());
        assertEquals(2, source.requests("/a"));
        assertEquals(List.of(), store.list());
    }

    @Test
    void membersComeFirstWithTheClusterSecretAndTheSourceAfterThem() throws Exception {
        byte[] data = bytes(20_000, 8);
        source.serve("/source", data);
        Fetcher.Source peer = from(source, "/peer", true);
        fetcher(Duration.ofSeconds(10), 3)
                .fetch(
                        store,
                        digestOf(data),
                        0,
                        1L << 30,
                        List.of(peer, from(source, "/source", false)),
                        n -> {});
        assertEquals(1, source.requests("/peer"));
        assertEquals(List.of(CREDENTIALS.headerValue()), source.peerSecrets("/peer"));
        assertEquals(1, source.requests("/source"));
        assertTrue(store.contains(digestOf(data)));
    }

    @Test
    void concurrentRequestsForOneDigestShareOneFetch() throws Exception {
        byte[] data = bytes(4 << 20, 9);
        Digest digest = digestOf(data);
        source.serve("/a", data);
        source.delay(200);
        Fetcher fetcher = fetcher(Duration.ofSeconds(10), 3);
        SingleFlight<Digest> flights = new SingleFlight<>(stats);
        ExecutorService fetchThreads = Executors.newFixedThreadPool(2);
        ExecutorService callers = Executors.newFixedThreadPool(50);
        try {
            Runnable fetchUnlessStored =
                    () -> {
                        try {
                            if (store.verified(digest).isEmpty()) {
                                fetcher.fetch(
                                        store,
                                        digest,
                                        0,
                                        1L << 30,
                                        List.of(from(source, "/a", false)),
                                        n -> {});
                            }
                        } catch (Exception e) {
                            throw new CompletionException(e);
                        }
                    };
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(
                        CompletableFuture.supplyAsync(
                                        () ->
                                                flights.join(
                                                        digest,
                                                        () ->
                                                                CompletableFuture.runAsync(
                                                                        fetchUnlessStored,
                                                                        fetchThreads)),
                                        callers)
                                .thenCompose(f -> f));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .get(60, TimeUnit.SECONDS);
        } finally {
            fetchThreads.shutdownNow();
            callers.shutdownNow();
        }
        assertEquals(1, source.requests("/a"));
        assertArrayEquals(data, Files.readAllBytes(store.path(digest)));
        assertTrue(stats.fetchesShared() >= 1, "shared: " + stats.fetchesShared());
    }
}
