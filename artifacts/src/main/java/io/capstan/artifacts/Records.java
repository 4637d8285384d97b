package io.capstan.artifacts;

import io.capstan.raft.KeyspaceException;
import io.capstan.raft.Member;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.RaftNode;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.ArtifactDeleteRequest;
import io.capstan.raft.proto.ArtifactFetchedRequest;
import io.capstan.raft.proto.ArtifactGetRequest;
import io.capstan.raft.proto.ArtifactListRequest;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.ArtifactRegisterRequest;
import io.capstan.raft.proto.ArtifactReleaseRequest;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.Query;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The artifact records in the Raft state, as this member reads and changes them: every change is a
 * command through the log (stamped with this member's clock and name), every read a query of this
 * member's applied state (serializable: a record that has just changed elsewhere may show here a
 * moment later, which the reconciler's next pass absorbs).
 *
 * <p>Threading: any thread; immutable. Futures complete on Raft's threads.
 */
final class Records {
    private final RaftNode raft;
    private final Clock clock;
    private final String peerScheme;
    private final boolean peerUrlsAreWeb;

    /**
     * @param peerUrlsAreWeb whether members' peer URLs are their web addresses (the web transport),
     *     where their artifacts can be fetched
     * @param peerScheme {@code https} when the web ports serve TLS, else {@code http}
     */
    Records(RaftNode raft, Clock clock, boolean peerUrlsAreWeb, String peerScheme) {
        this.raft = raft;
        this.clock = clock;
        this.peerUrlsAreWeb = peerUrlsAreWeb;
        this.peerScheme = peerScheme;
    }

    /** This member's node id, as records name holders and fetchers. */
    String self() {
        return raft.nodeId();
    }

    long now() {
        return clock.millis();
    }

    boolean isLeader() {
        return raft.status().role() == NodeStatus.Role.LEADER;
    }

    CompletableFuture<ArtifactRecord> register(ArtifactRegisterRequest.Builder request) {
        return raft.propose(
                        Command.newBuilder()
                                .setArtifactRegister(request.setMember(self()).setAtUnixMs(now()))
                                .build())
                .thenApply(result -> result.getArtifactRegister().getArtifact());
    }

    /** This member holds verified bytes of {@code size}. */
    CompletableFuture<ArtifactRecord> held(Digest digest, long size) {
        return fetched(
                ArtifactFetchedRequest.newBuilder().setDigest(digest.toString()).setSize(size));
    }

    /** This member's fetch from the source failed for {@code why}. */
    CompletableFuture<ArtifactRecord> failed(Digest digest, String why) {
        String failure = why.length() > 1000 ? why.substring(0, 1000) + "..." : why;
        return fetched(
                ArtifactFetchedRequest.newBuilder()
                        .setDigest(digest.toString())
                        .setFailure(failure));
    }

    private CompletableFuture<ArtifactRecord> fetched(ArtifactFetchedRequest.Builder request) {
        return raft.propose(
                        Command.newBuilder()
                                .setArtifactFetched(request.setMember(self()).setAtUnixMs(now()))
                                .build())
                .thenApply(result -> result.getArtifactFetched().getArtifact());
    }

    CompletableFuture<ArtifactRecord> release(Digest digest, List<String> references) {
        return raft.propose(
                        Command.newBuilder()
                                .setArtifactRelease(
                                        ArtifactReleaseRequest.newBuilder()
                                                .setDigest(digest.toString())
                                                .addAllReferences(references)
                                                .setAtUnixMs(now()))
                                .build())
                .thenApply(result -> result.getArtifactRelease().getArtifact());
    }

    /**
     * @param unreferencedSince 0 for an operator's delete; garbage collection passes the time it
     *     saw, so a reference added meanwhile saves the artifact
     */
    CompletableFuture<ArtifactRecord> delete(Digest digest, long unreferencedSince) {
        return raft.propose(
                        Command.newBuilder()
                                .setArtifactDelete(
                                        ArtifactDeleteRequest.newBuilder()
                                                .setDigest(digest.toString())
                                                .setUnreferencedSinceUnixMs(unreferencedSince))
                                .build())
                .thenApply(result -> result.getArtifactDelete().getArtifact());
    }

    /** Every record this member has applied, by digest. */
    CompletableFuture<List<ArtifactRecord>> list() {
        return raft.query(
                        Query.newBuilder()
                                .setArtifactList(ArtifactListRequest.getDefaultInstance())
                                .build(),
                        ReadConsistency.SERIALIZABLE)
                .thenApply(result -> result.getArtifactList().getArtifactsList());
    }

    /** The record of {@code digest} this member has applied; empty when there is none. */
    CompletableFuture<Optional<ArtifactRecord>> get(Digest digest) {
        return raft.query(
                        Query.newBuilder()
                                .setArtifactGet(
                                        ArtifactGetRequest.newBuilder()
                                                .setDigest(digest.toString()))
                                .build(),
                        ReadConsistency.SERIALIZABLE)
                .handle(
                        (result, error) -> {
                            if (error == null) {
                                return Optional.of(result.getArtifactGet().getArtifact());
                            }
                            if (Errors.cause(error) instanceof KeyspaceException e
                                    && e.code() == Failure.Code.ARTIFACT_NOT_FOUND) {
                                return Optional.empty();
                            }
                            throw Errors.wrapped(error);
                        });
    }

    /** Where member {@code name}'s web layer serves artifacts to peers; empty when unknown. */
    CompletableFuture<Optional<URI>> webAddress(String name) {
        if (!peerUrlsAreWeb) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return raft.admin()
                .members(ReadConsistency.SERIALIZABLE)
                .thenApply(
                        members ->
                                members.stream()
                                        .filter(
                                                m ->
                                                        m.name().equals(name)
                                                                && !m.peerUrls().isEmpty())
                                        .map(Member::peerUrls)
                                        .map(urls -> URI.create(urls.get(0)))
                                        .map(
                                                url ->
                                                        URI.create(
                                                                peerScheme
                                                                        + "://"
                                                                        + url.getRawAuthority()))
                                        .findFirst());
    }
}
