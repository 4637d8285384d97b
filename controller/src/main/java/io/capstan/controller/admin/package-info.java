/**
 * The admin HTTP API on the web port ({@code /v1/cluster...}, {@code /v1/snapshot}), the admin
 * token in front of it, and what {@code /health/ready} reports.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.controller.admin.AdminApi} (routes, token guard, readiness of one member),
 * {@link io.capstan.controller.admin.AdminSettings} and {@link
 * io.capstan.controller.admin.AdminToken}. Everything else is package-private.
 *
 * <h2>How a request flows</h2>
 *
 * The token guard ({@code TokenGuard}) admits it; {@code EndpointHandler} reads the body without
 * blocking and runs the endpoint ({@code ClusterStatusEndpoint}, {@code AddMemberEndpoint}, ...) on
 * the admin executor; the endpoint checks its input ({@code RequestJson}, {@code MemberIds}), calls
 * the Raft node and builds the JSON answer ({@code MemberJson}). Failures become errors in one
 * place, {@code AdminErrors}: bad input 400, refused by the cluster's state 404/409, the cluster
 * unable to decide now 503. {@code SnapshotDownloadHandler} streams backups itself.
 *
 * <h2>Threads</h2>
 *
 * Endpoints and their continuations run on the {@code AdminApi}'s executor, never on Ratis threads;
 * snapshot streams on the web layer's workers. Shared state is immutable, apart from the leader
 * watch's single atomic value and the snapshot stream permits.
 */
package io.capstan.controller.admin;
