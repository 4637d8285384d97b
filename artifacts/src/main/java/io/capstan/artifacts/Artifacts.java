package io.capstan.artifacts;

import io.capstan.raft.RaftNode;
import io.capstan.transport.MemberCredentials;
import io.capstan.web.Gate;
import io.capstan.web.Route;
import io.capstan.web.TlsSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member's artifacts, as a component of the daemon: the content-addressed store under {@code
 * <data-dir>/artifacts/sha256}, tus uploads under {@code <data-dir>/artifacts/uploads}, the records
 * in the Raft state, and the endpoints on the web port ({@link ArtifactApi}, {@link TusApi}). The
 * web layer and Raft know nothing of it; it uses Raft's commands and queries, the web layer's
 * routes, and the cluster secret to fetch from other members.
 *
 * <p>Lifecycle: build it and declare its {@link #routes} before the web layer starts (they answer
 * 503 until the owner's gate opens); {@link #start()} once Raft runs removes crash leftovers, loads
 * unfinished uploads and starts the reconciler, garbage collection and upload expiry; {@link
 * #stop()} ends them and interrupts fetches (their temporary files go, nothing partial is ever in
 * place). Stop is idempotent.
 *
 * <p>Threads, all daemon and named {@code capstan-artifact-*}: {@code fetch.parallel} fetch
 * threads; two work threads for the endpoints' continuations and the reconciler's decisions; one
 * timer thread for schedules and download watchdogs; two HTTP client threads. Uploads' bodies are
 * read on the web layer's worker threads.
 */
public final class Artifacts {
    private static final Logger LOG = LoggerFactory.getLogger(Artifacts.class);
    static final String STORE_DIR = "sha256";
    static final String UPLOADS_DIR = "uploads";
    private static final int WORK_THREADS = 2;
    private static final int HTTP_THREADS = 2;

    private final ArtifactSettings settings;
    private final ArtifactStats stats = new ArtifactStats();
    private final ExecutorService fetchThreads;
    private final ExecutorService work;
    private final ExecutorService http;
    private final ScheduledExecutorService timer;
    private final ContentStore store;
    private final Uploads uploads;
    private final ArtifactService service;
    private final ArtifactApi api;
    private final TusApi tus;
    private final AtomicBoolean stopped = new AtomicBoolean();

    /**
     * @param raft this member's Raft node, where the records live
     * @param credentials the cluster secret, to fetch from other members and admit their requests
     * @param tls the web layers' TLS, when members are reached over HTTPS
     * @param peerUrlsAreWeb whether members' peer URLs are their web addresses (the web transport);
     *     without it, members fetch from sources only
     */
    public Artifacts(
            ArtifactSettings settings,
            RaftNode raft,
            MemberCredentials credentials,
            Optional<TlsSettings> tls,
            boolean peerUrlsAreWeb,
            Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        String node = raft.nodeId();
        this.fetchThreads =
                Executors.newFixedThreadPool(settings.fetch().parallel(), threads(node, "fetch"));
        this.work = Executors.newFixedThreadPool(WORK_THREADS, threads(node, "work"));
        this.http = Executors.newFixedThreadPool(HTTP_THREADS, threads(node, "http"));
        ScheduledThreadPoolExecutor scheduler =
                new ScheduledThreadPoolExecutor(1, threads(node, "timer"));
        scheduler.setRemoveOnCancelPolicy(true);
        this.timer = scheduler;
        this.store = new ContentStore(settings.dir().resolve(STORE_DIR), stats);
        this.uploads =
                new Uploads(settings.dir().resolve(UPLOADS_DIR), settings.uploads(), clock::millis);
        HttpClient sources = client(settings.fetch().connectTimeout(), Optional.empty());
        HttpClient peers = client(settings.fetch().connectTimeout(), tls);
        Fetcher fetcher =
                new Fetcher(
                        settings.fetch(),
                        sources,
                        peers,
                        credentials,
                        timer,
                        () -> ThreadLocalRandom.current().nextDouble(0.5, 1.0),
                        duration -> Thread.sleep(duration.toMillis()),
                        stats);
        Records records =
                new Records(raft, clock, peerUrlsAreWeb, tls.isPresent() ? "https" : "http");
        this.service =
                new ArtifactService(settings, records, store, fetcher, stats, fetchThreads, work);
        this.api = new ArtifactApi(service, credentials, work);
        this.tus = new TusApi(uploads, service, stats, settings.maxSize());
    }

    private HttpClient client(Duration connectTimeout, Optional<TlsSettings> tls) {
        HttpClient.Builder builder =
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(connectTimeout)
                        .followRedirects(HttpClient.Redirect.NORMAL)
                        .executor(http);
        tls.ifPresent(t -> builder.sslContext(t.peerContext()));
        return builder.build();
    }

    /** The artifact, upload and member-to-member routes, each open while {@code owner} is. */
    public List<Route> routes(Gate owner) {
        List<Route> routes = new ArrayList<>(api.routes(owner));
        routes.addAll(tus.routes(owner));
        return List.copyOf(routes);
    }

    /** Prepares the store and uploads, then starts the background work; call once Raft runs. */
    public CompletableFuture<Void> start() {
        return CompletableFuture.runAsync(
                () -> {
                    try {
                        int removed = store.open();
                        if (removed > 0) {
                            LOG.info(
                                    "removed {} temporary files a crash left in {}",
                                    removed,
                                    store.dir());
                        }
                        uploads.load();
                    } catch (IOException e) {
                        throw new UncheckedIOException(
                                "cannot open the artifact store in "
                                        + settings.dir()
                                        + ": "
                                        + e.getMessage(),
                                e);
                    }
                    schedule(service::reconcile, settings.reconcileInterval());
                    schedule(service::collectGarbage, settings.gcInterval());
                    Duration expiry = settings.uploads().expireAfter().dividedBy(4);
                    schedule(
                            () -> CompletableFuture.runAsync(uploads::expire, work),
                            expiry.compareTo(Duration.ofMinutes(1)) > 0
                                    ? Duration.ofMinutes(1)
                                    : expiry);
                },
                work);
    }

    /**
     * Runs {@code pass} every {@code interval} after the previous one ended, logging its failure.
     */
    private void schedule(
            java.util.function.Supplier<CompletableFuture<?>> pass, Duration interval) {
        Runnable next =
                new Runnable() {
                    @Override
                    public void run() {
                        CompletableFuture<?> done;
                        try {
                            done = pass.get();
                        } catch (RuntimeException e) {
                            done = CompletableFuture.failedFuture(e);
                        }
                        done.whenComplete(
                                (ok, error) -> {
                                    if (error != null) {
                                        LOG.debug(
                                                "artifact background pass failed: {}",
                                                Errors.cause(error).toString());
                                    }
                                    if (!stopped.get()) {
                                        try {
                                            timer.schedule(
                                                    this,
                                                    interval.toMillis(),
                                                    TimeUnit.MILLISECONDS);
                                        } catch (
                                                java.util.concurrent.RejectedExecutionException e) {
                                            // Stopping.
                                        }
                                    }
                                });
                    }
                };
        timer.schedule(next, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops background work and fetches; endpoints still called answer 503. Idempotent. */
    public void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        timer.shutdownNow();
        fetchThreads.shutdownNow();
        work.shutdownNow();
        http.shutdownNow();
        try {
            fetchThreads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Counters for metrics; any thread. */
    public ArtifactStats stats() {
        return stats;
    }

    /** Unfinished uploads on this member now; any thread. */
    public long openUploads() {
        return uploads.unfinished();
    }

    private static ThreadFactory threads(String node, String role) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread t =
                    new Thread(
                            task,
                            "capstan-artifact-"
                                    + role
                                    + "-"
                                    + node
                                    + "-"
                                    + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
