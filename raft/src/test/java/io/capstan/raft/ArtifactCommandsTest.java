package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.proto.ArtifactDeleteRequest;
import io.capstan.raft.proto.ArtifactFetchedRequest;
import io.capstan.raft.proto.ArtifactGetRequest;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.raft.proto.ArtifactRecord.State;
import io.capstan.raft.proto.ArtifactRegisterRequest;
import io.capstan.raft.proto.ArtifactReleaseRequest;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.Query;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ArtifactCommandsTest {
    static final String DIGEST = "sha256:" + "ab".repeat(32);
    static final String URL = "http://example.test/module.wasm";

    static Command register(String member, long at, String... references) {
        return Command.newBuilder()
                .setArtifactRegister(
                        ArtifactRegisterRequest.newBuilder()
                                .setDigest(DIGEST)
                                .setSourceUrl(URL)
                                .setMediaType("application/wasm")
                                .addAllReferences(List.of(references))
                                .setMember(member)
                                .setAtUnixMs(at))
                .build();
    }

    static Command fetched(String member, long size, String failure) {
        return Command.newBuilder()
                .setArtifactFetched(
                        ArtifactFetchedRequest.newBuilder()
                                .setDigest(DIGEST)
                                .setMember(member)
                                .setSize(size)
                                .setFailure(failure)
                                .setAtUnixMs(5))
                .build();
    }

    static Command release(long at, String... references) {
        return Command.newBuilder()
                .setArtifactRelease(
                        ArtifactReleaseRequest.newBuilder()
                                .setDigest(DIGEST)
                                .addAllReferences(List.of(references))
                                .setAtUnixMs(at))
                .build();
    }

    static Command delete(long unreferencedSince) {
        return Command.newBuilder()
                .setArtifactDelete(
                        ArtifactDeleteRequest.newBuilder()
                                .setDigest(DIGEST)
                                .setUnreferencedSinceUnixMs(unreferencedSince))
                .build();
    }

    @Test
    void theFirstRegistrationMakesItsMemberTheFetcherAndLaterOnesOnlyAddReferences() {
        Keyspace ks = new Keyspace();
        long revision = ks.store.revision();
        CommandResult first = ks.apply(register("n1", 100, "app-a"));
        assertTrue(first.getArtifactRegister().getCreated());
        ArtifactRecord record = first.getArtifactRegister().getArtifact();
        assertEquals(State.FETCHING, record.getState());
        assertEquals("n1", record.getFetcher());
        assertEquals(100, record.getFetchStartedUnixMs());
        assertEquals(100, record.getCreatedUnixMs());
        assertEquals(0, record.getUnreferencedSinceUnixMs());

        CommandResult second = ks.apply(register("n2", 200, "app-b", "app-a"));
        assertFalse(second.getArtifactRegister().getCreated());
        record = second.getArtifactRegister().getArtifact();
        assertEquals("n1", record.getFetcher());
        assertEquals(List.of("app-a", "app-b"), record.getReferencesList());
        // Artifact records are not keys: the keyspace revision stays.
        assertEquals(revision, ks.store.revision());
    }

    @Test
    void aFinishedFetchMakesItReadyAndAFailedOneFailsItUntilRegisteredAgain() {
        Keyspace ks = new Keyspace();
        ks.apply(register("n1", 100));
        ArtifactRecord failed =
                ks.apply(fetched("n1", 0, "source answered 404"))
                        .getArtifactFetched()
                        .getArtifact();
        assertEquals(State.FAILED, failed.getState());
        assertEquals("source answered 404", failed.getFailure());
        assertEquals("", failed.getFetcher());

        ArtifactRecord retried = ks.apply(register("n3", 300)).getArtifactRegister().getArtifact();
        assertEquals(State.FETCHING, retried.getState());
        assertEquals("n3", retried.getFetcher());
        assertEquals("", retried.getFailure());

        ArtifactRecord ready = ks.apply(fetched("n3", 4096, "")).getArtifactFetched().getArtifact();
        assertEquals(State.READY, ready.getState());
        assertEquals(List.of("n3"), ready.getHoldersList());
        assertEquals(4096, ready.getSize());
        // A member's later failure does not undo what another member holds.
        ArtifactRecord still =
                ks.apply(fetched("n2", 0, "peer unreachable")).getArtifactFetched().getArtifact();
        assertEquals(ready, still);
        assertEquals(
                List.of("n1", "n3"),
                ks.apply(fetched("n1", 4096, ""))
                        .getArtifactFetched()
                        .getArtifact()
                        .getHoldersList());
    }

    @Test
    void anUploadIsReadyAtOnceWithItsMemberHoldingIt() {
        Keyspace ks = new Keyspace();
        Command upload =
                Command.newBuilder()
                        .setArtifactRegister(
                                ArtifactRegisterRequest.newBuilder()
                                        .setDigest(DIGEST)
                                        .setSize(10)
                                        .setMember("n2")
                                        .setHeld(true)
                                        .setAtUnixMs(7))
                        .build();
        ArtifactRecord record = ks.apply(upload).getArtifactRegister().getArtifact();
        assertEquals(State.READY, record.getState());
        assertEquals(List.of("n2"), record.getHoldersList());
        assertEquals("", record.getSourceUrl());
        assertEquals(7, record.getUnreferencedSinceUnixMs());
    }

    @Test
    void onlyTheFetchStartedAtTheGivenTimeIsTakenOver() {
        Keyspace ks = new Keyspace();
        ks.apply(register("n1", 100));
        Command stale =
                register("n2", 900).toBuilder()
                        .setArtifactRegister(
                                register("n2", 900).getArtifactRegister().toBuilder()
                                        .setTakeOverFetchStartedUnixMs(99))
                        .build();
        assertEquals("n1", ks.apply(stale).getArtifactRegister().getArtifact().getFetcher());
        Command current =
                stale.toBuilder()
                        .setArtifactRegister(
                                stale.getArtifactRegister().toBuilder()
                                        .setTakeOverFetchStartedUnixMs(100))
                        .build();
        ArtifactRecord taken = ks.apply(current).getArtifactRegister().getArtifact();
        assertEquals("n2", taken.getFetcher());
        assertEquals(900, taken.getFetchStartedUnixMs());
    }

    @Test
    void deleteIsRefusedWhileReferencedAndGarbageCollectionOnlyTakesWhatItChose() {
        Keyspace ks = new Keyspace();
        ks.apply(register("n1", 100, "app-a", "app-b"));
        assertFailure(Failure.Code.ARTIFACT_REFERENCED, ks.apply(delete(0)));
        ArtifactRecord released =
                ks.apply(release(200, "app-a", "gone")).getArtifactRelease().getArtifact();
        assertEquals(List.of("app-b"), released.getReferencesList());
        assertEquals(0, released.getUnreferencedSinceUnixMs());
        released = ks.apply(release(300, "app-b")).getArtifactRelease().getArtifact();
        assertEquals(300, released.getUnreferencedSinceUnixMs());

        // Referenced and released again after garbage collection looked: its choice is stale.
        ks.apply(register("n1", 400, "app-c"));
        ks.apply(release(500, "app-c"));
        assertFailure(Failure.Code.ARTIFACT_REFERENCED, ks.apply(delete(300)));
        ArtifactRecord deleted = ks.apply(delete(500)).getArtifactDelete().getArtifact();
        assertEquals(DIGEST, deleted.getDigest());
        assertNull(ks.store.artifact(DIGEST));
        assertFailure(Failure.Code.ARTIFACT_NOT_FOUND, ks.apply(delete(0)));
        assertFailure(Failure.Code.ARTIFACT_NOT_FOUND, ks.apply(fetched("n1", 1, "")));
    }

    @Test
    void referencesPastTheLimitAreRefusedAndNothingChanges() {
        Keyspace ks = new Keyspace();
        for (int batch = 0; batch < ArtifactCommands.MAX_REFERENCES / 64; batch++) {
            String[] references = new String[64];
            for (int i = 0; i < 64; i++) {
                references[i] = "ref-" + batch + "-" + i;
            }
            ks.apply(register("n1", 100, references));
        }
        ArtifactRecord full = ks.store.artifact(DIGEST);
        assertEquals(ArtifactCommands.MAX_REFERENCES, full.getReferencesCount());
        assertFailure(Failure.Code.INVALID, ks.apply(register("n1", 200, "one-more")));
        assertEquals(full, ks.store.artifact(DIGEST));
    }

    @Test
    void snapshotsAndDigestsCoverArtifactRecords() throws IOException {
        Keyspace ks = new Keyspace();
        ks.apply(Ops.put("k", "v"));
        String before = ks.store.digestNow();
        ks.apply(register("n1", 100, "app-a"));
        String registered = ks.store.digestNow();
        assertNotEquals(before, registered);
        ks.apply(fetched("n1", 42, ""));
        assertNotEquals(registered, ks.store.digestNow());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(ks.store, out);
        MvccStore restored = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(ks.store.digestNow(), restored.digestNow());
        assertEquals(ks.store.artifacts(), restored.artifacts());
    }

    @Test
    void malformedArtifactCommandsNeverReachTheLog() {
        CommandValidator validator = new CommandValidator(Limits.DEFAULT);
        ArtifactRegisterRequest good = register("n1", 1).getArtifactRegister();
        validator.validate(Command.newBuilder().setArtifactRegister(good).build());
        List<ArtifactRegisterRequest> bad =
                List.of(
                        good.toBuilder().setDigest("sha256:" + "AB".repeat(32)).build(),
                        good.toBuilder().setDigest("md5:0123").build(),
                        good.toBuilder().setSourceUrl("file:///etc/passwd").build(),
                        good.toBuilder().clearSourceUrl().build(),
                        good.toBuilder().setMember("").build(),
                        good.toBuilder().setAtUnixMs(0).build(),
                        good.toBuilder().setSize(-1).build(),
                        good.toBuilder().addReferences("").build(),
                        good.toBuilder().addReferences("line\nbreak").build());
        for (ArtifactRegisterRequest request : bad) {
            Command command = Command.newBuilder().setArtifactRegister(request).build();
            InvalidCommandException e =
                    assertThrows(
                            InvalidCommandException.class,
                            () -> validator.validate(command),
                            request.toString());
            assertTrue(e.getMessage().startsWith("artifact_register."), e.getMessage());
        }
        assertThrows(
                InvalidCommandException.class,
                () ->
                        validator.validate(
                                Query.newBuilder()
                                        .setArtifactGet(
                                                ArtifactGetRequest.newBuilder().setDigest("x"))
                                        .build()));
    }

    private static void assertFailure(Failure.Code code, CommandResult result) {
        assertTrue(result.hasFailure(), result.toString());
        assertEquals(code, result.getFailure().getCode(), result.getFailure().getMessage());
    }
}
