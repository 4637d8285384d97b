/**
 * A member's artifacts: a content-addressed store of files named by their SHA-256, fetched once per
 * digest however many ask (single flight), uploaded with the tus protocol, and distributed between
 * members, with their records in the Raft state.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.artifacts.Artifacts} (the component: routes, start, stop, stats), {@link
 * io.capstan.artifacts.ArtifactSettings} with {@link io.capstan.artifacts.FetchSettings} and {@link
 * io.capstan.artifacts.UploadSettings}, and {@link io.capstan.artifacts.ArtifactStats} for metrics.
 * Everything else is package-private: the store ({@code ContentStore}), the fetcher ({@code
 * Fetcher}), the flights ({@code SingleFlight}), the records ({@code Records}, Raft commands and
 * queries), the reconciler and garbage collection ({@code ArtifactService}), and the endpoints
 * ({@code ArtifactApi}, {@code TusApi}).
 *
 * <h2>Who owns what</h2>
 *
 * <ul>
 *   <li>A file under a digest's name is immutable once renamed into place; placing, replacing and
 *       deleting it happen under that digest's lock stripe in the store.
 *   <li>A temporary file belongs to the one writer that created it.
 *   <li>A digest's fetch belongs to its flight; whoever asks meanwhile waits for the same result.
 *   <li>An upload belongs to the one request that owns it; its progress fields are volatile so that
 *       HEAD reads them without waiting.
 *   <li>Each request's context is the web layer's immutable {@code RequestContext}, and the tus
 *       headers are read once into an immutable record; counters are adders.
 *   <li>Records are the Raft state's, changed only through the log.
 * </ul>
 */
package io.capstan.artifacts;
