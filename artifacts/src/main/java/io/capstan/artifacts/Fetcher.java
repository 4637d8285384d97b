package io.capstan.artifacts;

import io.capstan.transport.MemberCredentials;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads an artifact's bytes into the {@link ContentStore}, trying its sources in order (other
 * members first, then its source URL). Each source gets up to {@link FetchSettings#attempts()}
 * tries for failures another try may cure, with a doubling, jittered wait between them; a 4xx, a
 * digest mismatch or too many bytes move on to the next source at once, and a full store ends the
 * fetch. An attempt fails when no answer or byte arrives for the idle timeout or it outlasts the
 * attempt timeout. Bytes are written as they arrive (never held whole), hashed on the way, and
 * stored only when their digest is right.
 *
 * <p>Threading: {@link #fetch} blocks the calling thread (a fetch thread; the number of them is the
 * parallelism). Response bytes arrive on the HTTP clients' executors, one delivery at a time per
 * attempt; the timer thread checks each attempt's progress. Immutable apart from each attempt's own
 * state.
 */
final class Fetcher {
    private static final Logger LOG = LoggerFactory.getLogger(Fetcher.class);
    private static final Duration MAX_WATCH_TICK = Duration.ofSeconds(1);

    /** Where bytes may come from: another member (authenticated as one) or the source URL. */
    record Source(URI uri, boolean peer) {
        Source {
            Objects.requireNonNull(uri, "uri");
        }

        @Override
        public String toString() {
            return (peer ? "member " : "source ") + uri;
        }
    }

    /** Pauses a fetch thread between tries; a test passes one that does not wait. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final FetchSettings settings;
    private final HttpClient sources;
    private final HttpClient peers;
    private final MemberCredentials credentials;
    private final ScheduledExecutorService timer;
    private final DoubleSupplier jitter;
    private final Sleeper sleeper;
    private final ArtifactStats stats;

    /**
     * @param sources the client for source URLs
     * @param peers the client for other members (trusting their certificates when TLS is on)
     * @param jitter a factor in (0, 1] for each wait between tries
     */
    Fetcher(
            FetchSettings settings,
            HttpClient sources,
            HttpClient peers,
            MemberCredentials credentials,
            ScheduledExecutorService timer,
            DoubleSupplier jitter,
            Sleeper sleeper,
            ArtifactStats stats) {
        this.settings = settings;
        this.sources = sources;
        this.peers = peers;
        this.credentials = credentials;
        this.timer = timer;
        this.jitter = jitter;
        this.sleeper = sleeper;
        this.stats = stats;
    }

    /**
     * Stores the bytes of {@code digest} from the first source that delivers them.
     *
     * @param size the artifact's size when known (more bytes fail), else 0
     * @param maxBytes the largest artifact accepted
     * @param progress told the bytes received so far by the attempt under way
     * @return the stored file
     * @throws ArtifactException naming every source's last failure when none delivered, or at once
     *     when the store is full
     */
    Path fetch(
            ContentStore store,
            Digest digest,
            long size,
            long maxBytes,
            List<Source> candidates,
            LongConsumer progress)
            throws ArtifactException, InterruptedException {
        if (candidates.isEmpty()) {
            throw new ArtifactException(
                    ArtifactException.Kind.UNAVAILABLE,
                    "artifact " + digest + " has no source URL and no member holds it");
        }
        long limit = size > 0 ? Math.min(size, maxBytes) : maxBytes;
        List<String> failures = new ArrayList<>();
        ArtifactException.Kind lastKind = ArtifactException.Kind.UNAVAILABLE;
        for (Source source : candidates) {
            for (int attempt = 1; ; attempt++) {
                try {
                    return attempt(store, digest, limit, source, progress);
                } catch (ArtifactException e) {
                    lastKind = e.kind();
                    if (e.kind() == ArtifactException.Kind.STORE_FULL) {
                        throw e;
                    }
                    if (!e.kind().retryable() || attempt >= settings.attempts()) {
                        LOG.warn("fetching {} from {} failed: {}", digest, source, e.getMessage());
                        failures.add(source + ": " + e.getMessage());
                        break;
                    }
                    Duration wait = settings.backoff(attempt + 1, jitter.getAsDouble());
                    LOG.info(
                            "fetching {} from {} failed ({}); try {} of {} in {} ms",
                            digest,
                            source,
                            e.getMessage(),
                            attempt + 1,
                            settings.attempts(),
                            wait.toMillis());
                    sleeper.sleep(wait);
                }
            }
        }
        throw new ArtifactException(
                lastKind, "could not fetch " + digest + ": " + String.join("; ", failures));
    }

    private Path attempt(
            ContentStore store, Digest digest, long limit, Source source, LongConsumer progress)
            throws ArtifactException, InterruptedException {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(source.uri())
                        .timeout(settings.idleTimeout())
                        .header("Accept-Encoding", "identity")
                        .GET();
        if (source.peer()) {
            request.header(credentials.headerName(), credentials.headerValue());
        }
        try (ContentStore.Writer writer = store.writer(digest, limit)) {
            Download download = new Download(writer, source, limit, progress);
            ScheduledFuture<?> watch = watch(download);
            try {
                HttpResponse<Long> response =
                        (source.peer() ? peers : sources)
                                .sendAsync(request.build(), download::subscriber)
                                .get();
                download.check(response.statusCode());
            } catch (ExecutionException e) {
                throw download.failure(e.getCause());
            } finally {
                watch.cancel(false);
                download.stop();
            }
            return writer.commit();
        } catch (ArtifactException e) {
            throw e;
        } catch (IOException e) {
            throw new ArtifactException(ArtifactException.Kind.UNAVAILABLE, e.getMessage(), e);
        }
    }

    private ScheduledFuture<?> watch(Download download) {
        long tick = Math.min(settings.idleTimeout().toMillis(), MAX_WATCH_TICK.toMillis());
        long idle = settings.idleTimeout().toNanos();
        long deadline = System.nanoTime() + settings.attemptTimeout().toNanos();
        return timer.scheduleAtFixedRate(
                () -> {
                    long now = System.nanoTime();
                    if (now - deadline > 0) {
                        download.abort(
                                new ArtifactException(
                                        ArtifactException.Kind.UNAVAILABLE,
                                        "the download took longer than "
                                                + settings.attemptTimeout()));
                    } else if (now - download.lastProgress() > idle) {
                        download.abort(
                                new ArtifactException(
                                        ArtifactException.Kind.UNAVAILABLE,
                                        "no bytes arrived for " + settings.idleTimeout()));
                    }
                },
                tick,
                tick,
                TimeUnit.MILLISECONDS);
    }

    /**
     * One attempt's body: written into the store's writer as it arrives, one buffer list at a time
     * (demand of one), and stopped by the watch or by a write that fails. Writes and the stop hold
     * this object's lock, so once {@link #stop()} returned no byte is written any more and the
     * writer is the fetch thread's alone.
     */
    private final class Download implements HttpResponse.BodySubscriber<Long> {
        private final ContentStore.Writer writer;
        private final Source source;
        private final long limit;
        private final LongConsumer progress;
        private final CompletableFuture<Long> body = new CompletableFuture<>();
        private volatile long lastProgress = System.nanoTime();
        // Guarded by this.
        private Flow.Subscription subscription;
        private boolean stopped;
        private ArtifactException aborted;

        Download(ContentStore.Writer writer, Source source, long limit, LongConsumer progress) {
            this.writer = writer;
            this.source = source;
            this.limit = limit;
            this.progress = progress;
        }

        /** The body handler: this subscriber for a 200, otherwise one that discards the body. */
        HttpResponse.BodySubscriber<Long> subscriber(HttpResponse.ResponseInfo info) {
            lastProgress = System.nanoTime();
            if (info.statusCode() != 200) {
                return HttpResponse.BodySubscribers.replacing(0L);
            }
            long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
            if (declared > limit) {
                abort(
                        new ArtifactException(
                                ArtifactException.Kind.TOO_LARGE,
                                "it announces "
                                        + declared
                                        + " bytes, more than the limit of "
                                        + limit
                                        + "; nothing was stored"));
            }
            return this;
        }

        long lastProgress() {
            return lastProgress;
        }

        @Override
        public synchronized void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            if (stopped) {
                subscription.cancel();
            } else {
                subscription.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                long before = writer.written();
                try {
                    for (ByteBuffer buffer : buffers) {
                        writer.write(buffer);
                    }
                } catch (IOException e) {
                    stats.fetched(source.peer(), writer.written() - before);
                    abort(
                            e instanceof ArtifactException a
                                    ? a
                                    : new ArtifactException(
                                            ArtifactException.Kind.UNAVAILABLE, e.getMessage(), e));
                    return;
                }
                stats.fetched(source.peer(), writer.written() - before);
                subscription.request(1);
            }
            lastProgress = System.nanoTime();
            progress.accept(writer.written());
        }

        @Override
        public void onError(Throwable error) {
            body.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            body.complete(writer.written());
        }

        @Override
        public CompletableFuture<Long> getBody() {
            return body;
        }

        /**
         * Ends the attempt with {@code why}: no more bytes are taken, and the wait fails with it.
         */
        void abort(ArtifactException why) {
            synchronized (this) {
                if (aborted == null) {
                    aborted = why;
                }
            }
            stop();
            body.completeExceptionally(why);
        }

        /** Takes no more bytes; afterwards the writer belongs to the fetch thread alone. */
        synchronized void stop() {
            stopped = true;
            if (subscription != null) {
                subscription.cancel();
            }
        }

        /** After the body ended: anything but a 200 fails the attempt. */
        void check(int code) throws ArtifactException {
            if (code == 200) {
                return;
            }
            boolean retryable = code >= 500 || code == 408 || code == 429;
            throw new ArtifactException(
                    retryable ? ArtifactException.Kind.UNAVAILABLE : ArtifactException.Kind.REFUSED,
                    "it answered HTTP " + code);
        }

        /** What a failed wait means: the abort's reason, a timeout, or the I/O error. */
        ArtifactException failure(Throwable error) {
            synchronized (this) {
                if (aborted != null) {
                    return aborted;
                }
            }
            Throwable cause =
                    error instanceof CompletionException && error.getCause() != null
                            ? error.getCause()
                            : error;
            if (cause instanceof ArtifactException a) {
                return a;
            }
            if (cause instanceof HttpTimeoutException) {
                return new ArtifactException(
                        ArtifactException.Kind.UNAVAILABLE,
                        "no answer within " + settings.idleTimeout(),
                        cause);
            }
            String message = cause.getMessage() != null ? cause.getMessage() : cause.toString();
            return new ArtifactException(ArtifactException.Kind.UNAVAILABLE, message, cause);
        }
    }
}
