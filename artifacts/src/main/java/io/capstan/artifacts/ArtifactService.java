package io.capstan.artifacts;

import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.ArtifactRecord.State;
import io.capstan.raft.proto.ArtifactRegisterRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member's artifacts: its store kept in line with the replicated records.
 *
 * <ul>
 *   <li>A registration is a Raft command; the member whose registration created the record (its
 *       fetcher) fetches it from the source, every other member waits until some member holds it
 *       and then fetches it from that member (then from the source when no member delivers).
 *       Requests for one digest on one member share one fetch ({@link SingleFlight}), so however
 *       many registrations arrive, the source sees one request.
 *   <li>The reconciler, every {@code reconcile-interval}, compares the store with the records: it
 *       fetches what this member lacks, tells the cluster what it holds, takes over a fetch from
 *       the source whose member has not finished it within {@code fetch.stale-after}, and deletes
 *       files whose record was deleted (or that no record has named for {@code gc.grace}). This is
 *       how a member that was down catches up.
 *   <li>On the leader, garbage collection deletes the records of artifacts that have had no
 *       reference for {@code gc.grace}; each member then deletes the bytes.
 * </ul>
 *
 * <p>Threading: public methods from any thread. Fetches run on the fetch threads (as many as {@code
 * fetch.parallel}); reconciling and garbage collection start on the timer thread and continue on
 * the work executor; continuations of Raft calls hop to the work executor. State: the store
 * (thread-safe), the flights (concurrent), the progress and failure maps (concurrent, one entry per
 * digest, written by the fetch that owns the digest's flight), and the digests the last reconcile
 * pass saw, read and replaced only by reconcile passes, which never overlap (each is scheduled
 * after the previous one ended).
 */
final class ArtifactService {
    private static final Logger LOG = LoggerFactory.getLogger(ArtifactService.class);

    /** How long a fetch thread waits for Raft to record what it did. */
    private static final Duration RECORD_WAIT = Duration.ofSeconds(30);

    /** A registration's answer: the record, and whether this member already holds the bytes. */
    record Registered(ArtifactRecord record, boolean local) {}

    private final ArtifactSettings settings;
    private final Records records;
    private final ContentStore store;
    private final Fetcher fetcher;
    private final SingleFlight<Digest> flights;
    private final Executor fetchThreads;
    private final Executor work;
    private final Map<Digest, Long> progress = new ConcurrentHashMap<>();
    private final Map<Digest, Long> lastFailure = new ConcurrentHashMap<>();

    /** Digests with a record at the last reconcile pass; reconcile passes only. */
    private volatile Set<Digest> seen = Set.of();

    ArtifactService(
            ArtifactSettings settings,
            Records records,
            ContentStore store,
            Fetcher fetcher,
            ArtifactStats stats,
            Executor fetchThreads,
            Executor work) {
        this.settings = settings;
        this.records = records;
        this.store = store;
        this.fetcher = fetcher;
        this.flights = new SingleFlight<>(stats);
        this.fetchThreads = fetchThreads;
        this.work = work;
    }

    ContentStore store() {
        return store;
    }

    Records records() {
        return records;
    }

    /**
     * Registers {@code digest} from {@code source} with {@code references}, and starts what this
     * member has to do about it (fetch from the source as the fetcher, or from a member that holds
     * it). A file already here whose digest verifies counts as held: nothing is fetched.
     */
    CompletableFuture<Registered> register(
            Digest digest, URI source, long size, String mediaType, List<String> references) {
        return CompletableFuture.supplyAsync(() -> verified(digest).isPresent(), work)
                .thenCompose(
                        held ->
                                records.register(
                                        ArtifactRegisterRequest.newBuilder()
                                                .setDigest(digest.toString())
                                                .setSourceUrl(source.toString())
                                                .setSize(size)
                                                .setMediaType(mediaType)
                                                .addAllReferences(references)
                                                .setHeld(held)))
                .thenApplyAsync(
                        record -> {
                            boolean local =
                                    record.getHoldersList().contains(records.self())
                                            && store.contains(digest);
                            if (!local) {
                                background(record);
                            }
                            return new Registered(record, local);
                        },
                        work);
    }

    /** Registers bytes this member's store holds (a finished upload). */
    CompletableFuture<ArtifactRecord> registerHeld(
            Digest digest, long size, String mediaType, List<String> references) {
        return records.register(
                ArtifactRegisterRequest.newBuilder()
                        .setDigest(digest.toString())
                        .setSize(size)
                        .setMediaType(mediaType)
                        .addAllReferences(references)
                        .setHeld(true));
    }

    /**
     * The verified file of {@code digest} on this member, fetched first from a member that holds it
     * (or its source) when the record is READY and this member lacks it.
     *
     * @return with the record (empty when this member's file has no record yet)
     * @throws Errors.Refusal (as the failure) when it is not registered, not fetched yet, or failed
     */
    CompletableFuture<Local> local(Digest digest) {
        return records.get(digest)
                .thenComposeAsync(
                        record -> {
                            Optional<Path> here = verified(digest);
                            if (here.isPresent()) {
                                return CompletableFuture.completedFuture(
                                        new Local(here.get(), record));
                            }
                            if (record.isEmpty()) {
                                throw Errors.notFound(digest);
                            }
                            ArtifactRecord r = record.get();
                            return switch (r.getState()) {
                                case READY ->
                                        ensure(r)
                                                .thenApply(
                                                        done ->
                                                                new Local(
                                                                        store.path(digest),
                                                                        record));
                                case FAILED ->
                                        throw new Errors.Refusal(
                                                409,
                                                "artifact_failed",
                                                "artifact "
                                                        + digest
                                                        + " could not be fetched: "
                                                        + r.getFailure(),
                                                Map.of("state", "failed"));
                                default ->
                                        throw new Errors.Refusal(
                                                409,
                                                "artifact_not_ready",
                                                "artifact "
                                                        + digest
                                                        + " is still being fetched by "
                                                        + r.getFetcher(),
                                                Map.of("state", "fetching"));
                            };
                        },
                        work);
    }

    /** A verified file of this member and the record naming it, if any. */
    record Local(Path path, Optional<ArtifactRecord> record) {}

    /** Deletes the record (refused while referenced), then this member's bytes. */
    CompletableFuture<ArtifactRecord> delete(Digest digest) {
        return records.delete(digest, 0)
                .thenApplyAsync(
                        record -> {
                            deleteLocal(digest);
                            return record;
                        },
                        work);
    }

    CompletableFuture<ArtifactRecord> release(Digest digest, List<String> references) {
        return records.release(digest, references);
    }

    CompletableFuture<List<ArtifactRecord>> list() {
        return records.list();
    }

    /** Bytes this member has received so far of a fetch under way. */
    OptionalLong progress(Digest digest) {
        Long received = progress.get(digest);
        return received == null ? OptionalLong.empty() : OptionalLong.of(received);
    }

    /** Whether this member's store holds a file for {@code digest} (not checked again). */
    boolean isLocal(Digest digest) {
        return store.contains(digest);
    }

    /**
     * One reconcile pass; completes when its decisions are made (fetches go on in the background).
     */
    CompletableFuture<Void> reconcile() {
        return records.list().thenAcceptAsync(this::reconcile, work);
    }

    private void reconcile(List<ArtifactRecord> all) {
        Set<Digest> present;
        try {
            present = new HashSet<>(store.list());
        } catch (IOException e) {
            LOG.warn("cannot list the artifact store {}: {}", store.dir(), e.toString());
            return;
        }
        Set<Digest> named = new HashSet<>();
        long now = records.now();
        for (ArtifactRecord record : all) {
            Digest digest = Digest.parse(record.getDigest());
            named.add(digest);
            boolean holder = record.getHoldersList().contains(records.self());
            if (present.contains(digest)) {
                if (!holder) {
                    background(record);
                }
            } else if (record.getState() == State.FETCHING
                    && !record.getFetcher().equals(records.self())
                    && now - record.getFetchStartedUnixMs()
                            > settings.fetch().staleAfter().toMillis()) {
                takeOver(record);
            } else if (record.getState() != State.FAILED && !recentlyFailed(digest, now)) {
                background(record);
            }
        }
        Set<Digest> before = seen;
        seen = Set.copyOf(named);
        for (Digest digest : present) {
            if (!named.contains(digest)
                    && !flights.inFlight(digest)
                    && (before.contains(digest) || unnamedTooLong(digest))) {
                LOG.info("deleting artifact {}: its record is gone", digest);
                deleteLocal(digest);
            }
        }
    }

    /**
     * Leader only: deletes the records of artifacts without references for longer than the grace
     * period. A reference added meanwhile makes the delete fail, as it should.
     */
    CompletableFuture<Void> collectGarbage() {
        if (!records.isLeader()) {
            return CompletableFuture.completedFuture(null);
        }
        return records.list()
                .thenComposeAsync(
                        all -> {
                            long now = records.now();
                            List<CompletableFuture<?>> deletes = new ArrayList<>();
                            for (ArtifactRecord record : all) {
                                long since = record.getUnreferencedSinceUnixMs();
                                if (record.getReferencesCount() == 0
                                        && since > 0
                                        && now - since > settings.gcGrace().toMillis()) {
                                    LOG.info(
                                            "garbage-collecting artifact {}: unreferenced since {} ms ago",
                                            record.getDigest(),
                                            now - since);
                                    deletes.add(
                                            records.delete(Digest.parse(record.getDigest()), since)
                                                    .exceptionally(
                                                            error -> {
                                                                LOG.info(
                                                                        "artifact {} was kept: {}",
                                                                        record.getDigest(),
                                                                        Errors.cause(error)
                                                                                .getMessage());
                                                                return null;
                                                            }));
                                }
                            }
                            return CompletableFuture.allOf(
                                    deletes.toArray(CompletableFuture[]::new));
                        },
                        work);
    }

    /**
     * Starts {@link #ensure} when this member has something to do about {@code record} (its file is
     * here but not recorded, some member holds it, or this member is its fetcher), and only logs a
     * failure: a later reconcile pass tries again.
     */
    private void background(ArtifactRecord record) {
        Digest digest = Digest.parse(record.getDigest());
        boolean wanted =
                store.contains(digest)
                        || record.getState() == State.READY
                        || (record.getState() == State.FETCHING
                                && record.getFetcher().equals(records.self()));
        if (!wanted || flights.inFlight(digest)) {
            return;
        }
        ensure(record)
                .exceptionally(
                        error -> {
                            LOG.warn(
                                    "artifact {} is not on this member yet: {}",
                                    digest,
                                    Errors.cause(error).getMessage());
                            return null;
                        });
    }

    /**
     * This member's verified copy of {@code record}'s bytes, fetched when missing (one flight per
     * digest), and the cluster told that this member holds it.
     */
    private CompletableFuture<Void> ensure(ArtifactRecord record) {
        Digest digest = Digest.parse(record.getDigest());
        return flights.join(
                digest,
                () -> CompletableFuture.runAsync(() -> fetchHere(digest, record), fetchThreads));
    }

    /** On a fetch thread, in the digest's flight. */
    private void fetchHere(Digest digest, ArtifactRecord record) {
        Optional<Path> here = verified(digest);
        long size;
        if (here.isPresent()) {
            size = sizeOf(here.get());
        } else {
            boolean fromSource = record.getState() == State.FETCHING;
            try {
                Path fetched =
                        fetcher.fetch(
                                store,
                                digest,
                                record.getSize(),
                                settings.maxSize(),
                                sources(record),
                                received -> progress.put(digest, received));
                size = sizeOf(fetched);
                lastFailure.remove(digest);
            } catch (ArtifactException e) {
                lastFailure.put(digest, records.now());
                if (fromSource && record.getFetcher().equals(records.self())) {
                    await(
                            records.failed(digest, e.getMessage()),
                            "record the failed fetch of " + digest);
                }
                throw new CompletionException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
            } finally {
                progress.remove(digest);
            }
        }
        if (!record.getHoldersList().contains(records.self())) {
            await(records.held(digest, size), "record that this member holds " + digest);
        }
    }

    /** Members that hold it (in random order, so they share the load), then its source. */
    private List<Fetcher.Source> sources(ArtifactRecord record) {
        List<Fetcher.Source> sources = new ArrayList<>();
        if (record.getState() == State.READY) {
            List<String> holders = new ArrayList<>(record.getHoldersList());
            Collections.shuffle(holders);
            for (String holder : holders) {
                if (holder.equals(records.self())) {
                    continue;
                }
                try {
                    records.webAddress(holder)
                            .get(RECORD_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                            .ifPresent(
                                    address ->
                                            sources.add(
                                                    new Fetcher.Source(
                                                            address.resolve(
                                                                    ArtifactApi.PEER_PATH_PREFIX
                                                                            + record.getDigest()),
                                                            true)));
                } catch (Exception e) {
                    LOG.debug("no address for member {}: {}", holder, e.toString());
                }
            }
        }
        if (!record.getSourceUrl().isEmpty()) {
            sources.add(new Fetcher.Source(URI.create(record.getSourceUrl()), false));
        }
        return sources;
    }

    private void takeOver(ArtifactRecord record) {
        records.register(
                        ArtifactRegisterRequest.newBuilder()
                                .setDigest(record.getDigest())
                                .setSourceUrl(record.getSourceUrl())
                                .setTakeOverFetchStartedUnixMs(record.getFetchStartedUnixMs()))
                .thenAcceptAsync(
                        taken -> {
                            if (taken.getState() == State.FETCHING
                                    && taken.getFetcher().equals(records.self())) {
                                LOG.info(
                                        "took over the fetch of {} from {}",
                                        record.getDigest(),
                                        record.getFetcher());
                                background(taken);
                            }
                        },
                        work)
                .exceptionally(
                        error -> {
                            LOG.info(
                                    "could not take over the fetch of {}: {}",
                                    record.getDigest(),
                                    error.toString());
                            return null;
                        });
    }

    private boolean recentlyFailed(Digest digest, long now) {
        Long failed = lastFailure.get(digest);
        long pause =
                Math.max(
                        settings.reconcileInterval().toMillis(),
                        settings.fetch().backoffMax().toMillis());
        return failed != null && now - failed < pause;
    }

    private boolean unnamedTooLong(Digest digest) {
        try {
            return records.now() - store.modified(digest).toEpochMilli()
                    > settings.gcGrace().toMillis();
        } catch (IOException e) {
            return false;
        }
    }

    private void deleteLocal(Digest digest) {
        if (flights.inFlight(digest)) {
            return;
        }
        try {
            store.delete(digest);
        } catch (IOException e) {
            LOG.warn("cannot delete artifact {}: {}", digest, e.toString());
        }
    }

    private Optional<Path> verified(Digest digest) {
        try {
            return store.verified(digest);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long sizeOf(Path path) {
        try {
            return java.nio.file.Files.size(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> void await(CompletableFuture<T> recorded, String what) {
        try {
            recorded.get(RECORD_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // The next reconcile pass records it again.
            LOG.info("could not {}: {}", what, Errors.cause(e).toString());
        }
    }
}
