package io.capstan.raft;

import io.capstan.raft.proto.ArtifactDeleteRequest;
import io.capstan.raft.proto.ArtifactDeleteResponse;
import io.capstan.raft.proto.ArtifactFetchedRequest;
import io.capstan.raft.proto.ArtifactFetchedResponse;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.ArtifactRecord.State;
import io.capstan.raft.proto.ArtifactRegisterRequest;
import io.capstan.raft.proto.ArtifactRegisterResponse;
import io.capstan.raft.proto.ArtifactReleaseRequest;
import io.capstan.raft.proto.ArtifactReleaseResponse;
import io.capstan.raft.proto.Failure;
import java.util.TreeSet;

/**
 * Applies the artifact commands to the artifact records of a {@link MvccStore}: what an artifact's
 * record becomes when a member registers it, finishes fetching it, drops references to it or
 * deletes it. A function of the record and the command (times come in the command), so every
 * replica reaches the same records. Refusals are {@link KeyspaceException}s thrown before anything
 * changes. No keyspace revision is published: artifact records are not keys.
 *
 * <p>Threading: the apply thread only.
 */
final class ArtifactCommands {
    /** Most references one artifact may have; a registration past it is refused. */
    static final int MAX_REFERENCES = 1024;

    private final MvccStore store;

    ArtifactCommands(MvccStore store) {
        this.store = store;
    }

    ArtifactRegisterResponse register(ArtifactRegisterRequest request) {
        ArtifactRecord existing = store.artifact(request.getDigest());
        ArtifactRecord.Builder record;
        if (existing == null) {
            record =
                    ArtifactRecord.newBuilder()
                            .setDigest(request.getDigest())
                            .setSize(request.getSize())
                            .setMediaType(request.getMediaType())
                            .setSourceUrl(request.getSourceUrl())
                            .setCreatedUnixMs(request.getAtUnixMs())
                            .setUnreferencedSinceUnixMs(request.getAtUnixMs());
            if (!request.getHeld()) {
                fetchBy(record, request);
            }
        } else {
            record = existing.toBuilder();
            if (record.getSize() == 0) {
                record.setSize(request.getSize());
            }
            if (record.getMediaType().isEmpty()) {
                record.setMediaType(request.getMediaType());
            }
            boolean retry = existing.getState() == State.FAILED && !request.getHeld();
            boolean takeOver =
                    existing.getState() == State.FETCHING
                            && request.getTakeOverFetchStartedUnixMs() != 0
                            && request.getTakeOverFetchStartedUnixMs()
                                    == existing.getFetchStartedUnixMs();
            if (retry || takeOver) {
                if (!request.getSourceUrl().isEmpty()) {
                    record.setSourceUrl(request.getSourceUrl());
                }
                fetchBy(record, request);
            }
        }
        if (request.getHeld()) {
            hold(record, request.getMember());
        }
        TreeSet<String> references = new TreeSet<>(record.getReferencesList());
        references.addAll(request.getReferencesList());
        if (references.size() > MAX_REFERENCES) {
            throw KeyspaceException.of(
                    Failure.Code.INVALID,
                    "artifact "
                            + request.getDigest()
                            + " would have "
                            + references.size()
                            + " references; the limit is "
                            + MAX_REFERENCES);
        }
        setReferences(record, references, request.getAtUnixMs());
        ArtifactRecord stored = record.build();
        store.putArtifact(stored);
        return ArtifactRegisterResponse.newBuilder()
                .setArtifact(stored)
                .setCreated(existing == null)
                .build();
    }

    ArtifactFetchedResponse fetched(ArtifactFetchedRequest request) {
        ArtifactRecord.Builder record = require(request.getDigest()).toBuilder();
        if (request.getFailure().isEmpty()) {
            // Verified bytes tell the true size, whatever a registration said.
            if (request.getSize() > 0) {
                record.setSize(request.getSize());
            }
            hold(record, request.getMember());
        } else if (record.getState() == State.FETCHING) {
            record.setState(State.FAILED)
                    .setFailure(request.getFailure())
                    .clearFetcher()
                    .clearFetchStartedUnixMs();
        }
        ArtifactRecord stored = record.build();
        store.putArtifact(stored);
        return ArtifactFetchedResponse.newBuilder().setArtifact(stored).build();
    }

    ArtifactReleaseResponse release(ArtifactReleaseRequest request) {
        ArtifactRecord.Builder record = require(request.getDigest()).toBuilder();
        TreeSet<String> references = new TreeSet<>(record.getReferencesList());
        references.removeAll(request.getReferencesList());
        setReferences(record, references, request.getAtUnixMs());
        ArtifactRecord stored = record.build();
        store.putArtifact(stored);
        return ArtifactReleaseResponse.newBuilder().setArtifact(stored).build();
    }

    ArtifactDeleteResponse delete(ArtifactDeleteRequest request) {
        ArtifactRecord record = require(request.getDigest());
        if (record.getReferencesCount() > 0) {
            throw KeyspaceException.of(
                    Failure.Code.ARTIFACT_REFERENCED,
                    "artifact "
                            + record.getDigest()
                            + " is still referenced by "
                            + String.join(", ", record.getReferencesList()));
        }
        long since = request.getUnreferencedSinceUnixMs();
        if (since != 0 && since != record.getUnreferencedSinceUnixMs()) {
            throw KeyspaceException.of(
                    Failure.Code.ARTIFACT_REFERENCED,
                    "artifact "
                            + record.getDigest()
                            + " was referenced again after garbage collection chose it");
        }
        store.removeArtifact(record.getDigest());
        return ArtifactDeleteResponse.newBuilder().setArtifact(record).build();
    }

    private ArtifactRecord require(String digest) {
        ArtifactRecord record = store.artifact(digest);
        if (record == null) {
            throw KeyspaceException.of(
                    Failure.Code.ARTIFACT_NOT_FOUND, "artifact " + digest + " is not registered");
        }
        return record;
    }

    private static void fetchBy(ArtifactRecord.Builder record, ArtifactRegisterRequest request) {
        if (record.getHoldersCount() > 0) {
            return;
        }
        record.setState(State.FETCHING)
                .clearFailure()
                .setFetcher(request.getMember())
                .setFetchStartedUnixMs(request.getAtUnixMs());
    }

    private static void hold(ArtifactRecord.Builder record, String member) {
        TreeSet<String> holders = new TreeSet<>(record.getHoldersList());
        holders.add(member);
        record.clearHolders().addAllHolders(holders);
        record.setState(State.READY).clearFailure().clearFetcher().clearFetchStartedUnixMs();
    }

    private static void setReferences(
            ArtifactRecord.Builder record, TreeSet<String> references, long at) {
        boolean wasReferenced = record.getReferencesCount() > 0;
        record.clearReferences().addAllReferences(references);
        if (references.isEmpty() && wasReferenced) {
            record.setUnreferencedSinceUnixMs(at);
        } else if (!references.isEmpty()) {
            record.clearUnreferencedSinceUnixMs();
        }
    }
}
