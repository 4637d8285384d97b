package io.capstan.artifacts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ContentStoreTest {
    @TempDir Path dir;

    static byte[] bytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    static Digest digestOf(byte[] data) {
        return Digest.of(Digest.hasher().digest(data));
    }

    private ContentStore open(ArtifactStats stats) throws Exception {
        ContentStore store = new ContentStore(dir, stats);
        store.open();
        return store;
    }

    private List<Path> temporaryFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(ContentStore.TEMP_SUFFIX))
                    .toList();
        }
    }

    @Test
    void bytesWithTheRightDigestAreStoredUnderItAndVerified() throws Exception {
        ContentStore store = open(new ArtifactStats());
        byte[] data = bytes(300_000, 1);
        Digest digest = digestOf(data);
        Path path = store.write(digest, new ByteArrayInputStream(data), data.length);
        assertEquals(dir.resolve(digest.hex()), path);
        assertArrayEquals(data, Files.readAllBytes(path));
        assertEquals(path, store.verified(digest).orElseThrow());
        assertEquals(List.of(digest), store.list());
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void otherBytesAreRefusedAndNothingIsStored() throws Exception {
        ArtifactStats stats = new ArtifactStats();
        ContentStore store = open(stats);
        Digest wanted = digestOf(bytes(1000, 1));
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                store.write(
                                        wanted, new ByteArrayInputStream(bytes(1000, 2)), 10_000));
        assertEquals(ArtifactException.Kind.DIGEST_MISMATCH, e.kind());
        assertTrue(e.getMessage().contains(wanted.toString()), e.getMessage());
        assertFalse(store.contains(wanted));
        assertEquals(List.of(), temporaryFiles());
        assertEquals(1, stats.verifyFailures());
    }

    @Test
    void bytesPastTheLimitAreRefusedAndNothingIsStored() throws Exception {
        ContentStore store = open(new ArtifactStats());
        byte[] data = bytes(5000, 3);
        Digest digest = digestOf(data);
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () -> store.write(digest, new ByteArrayInputStream(data), 4999));
        assertEquals(ArtifactException.Kind.TOO_LARGE, e.kind());
        assertFalse(store.contains(digest));
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void aVerifiedFileIsNeverRewrittenAndACorruptOneIsReplaced() throws Exception {
        ArtifactStats stats = new ArtifactStats();
        ContentStore first = open(stats);
        byte[] data = bytes(10_000, 4);
        Digest digest = digestOf(data);
        Path path = first.write(digest, new ByteArrayInputStream(data), data.length);
        FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
        Files.setLastModifiedTime(path, old);

        // A new store (a restarted member) verifies the file once and trusts it.
        ContentStore store = open(stats);
        assertTrue(store.verified(digest).isPresent());
        store.write(digest, new ByteArrayInputStream(data), data.length);
        assertEquals(old, Files.getLastModifiedTime(path), "a verified file was rewritten");
        assertEquals(List.of(), temporaryFiles());

        // Corrupted on disk: a new store's check deletes it, and the next write puts a good one in
        // place.
        byte[] corrupt = data.clone();
        corrupt[5000] ^= 1;
        Files.write(path, corrupt);
        ContentStore restarted = open(stats);
        assertTrue(restarted.verified(digest).isEmpty());
        assertFalse(Files.exists(path));
        assertEquals(1, stats.verifyFailures());
        restarted.write(digest, new ByteArrayInputStream(data), data.length);
        assertArrayEquals(data, Files.readAllBytes(path));
    }

    @Test
    void aCrashBetweenWriteAndRenameLeavesNoVisibleFileAndTheTemporaryFileGoesAtStart()
            throws Exception {
        ContentStore store = open(new ArtifactStats());
        byte[] data = bytes(100_000, 5);
        Digest digest = digestOf(data);
        // Written and synced, never committed: the process dies before the rename.
        ContentStore.Writer writer = store.writer(digest, data.length);
        writer.write(ByteBuffer.wrap(data));
        assertEquals(1, temporaryFiles().size());
        assertFalse(store.contains(digest));
        assertTrue(store.verified(digest).isEmpty());
        assertEquals(List.of(), store.list());

        ContentStore restarted = new ContentStore(dir, new ArtifactStats());
        assertEquals(1, restarted.open());
        assertEquals(List.of(), temporaryFiles());
        assertFalse(restarted.contains(digest));
    }

    @Test
    void aFullDiskIsAClearErrorAndLeavesNothingHalfWritten() throws Exception {
        // /dev/full fails every write with ENOSPC, as a file system that filled up does.
        ContentStore store =
                new ContentStore(
                        dir,
                        new ArtifactStats(),
                        temp -> {
                            Files.createFile(temp);
                            return FileChannel.open(Path.of("/dev/full"), StandardOpenOption.WRITE);
                        });
        store.open();
        byte[] data = bytes(200_000, 6);
        Digest digest = digestOf(data);
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () -> store.write(digest, new ByteArrayInputStream(data), data.length));
        assertEquals(ArtifactException.Kind.STORE_FULL, e.kind());
        assertTrue(
                e.getMessage().contains("is full") && e.getMessage().contains("nothing was stored"),
                e.getMessage());
        assertFalse(store.contains(digest));
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void concurrentWritersOfOneDigestLeaveOneWholeFile() throws Exception {
        ContentStore store = open(new ArtifactStats());
        byte[] data = bytes(1 << 20, 7);
        Digest digest = digestOf(data);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Path>> writes = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                writes.add(() -> store.write(digest, new ByteArrayInputStream(data), data.length));
            }
            for (Future<Path> done : pool.invokeAll(writes)) {
                assertEquals(store.path(digest), done.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertArrayEquals(data, Files.readAllBytes(store.path(digest)));
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void anAdoptedFileMovesInUnderItsDigestOrIsRefused() throws Exception {
        ContentStore store = open(new ArtifactStats());
        byte[] data = bytes(50_000, 8);
        Path upload = Files.createTempFile(dir.getParent(), "upload", ".part");
        Files.write(upload, data);
        Digest digest = store.adopt(upload, java.util.Optional.empty());
        assertEquals(digestOf(data), digest);
        assertFalse(Files.exists(upload));
        assertArrayEquals(data, Files.readAllBytes(store.path(digest)));

        Path other = Files.createTempFile(dir.getParent(), "upload", ".part");
        Files.write(other, bytes(10, 9));
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () -> store.adopt(other, java.util.Optional.of(digest)));
        assertEquals(ArtifactException.Kind.DIGEST_MISMATCH, e.kind());
        assertFalse(Files.exists(other));
        assertArrayEquals(data, Files.readAllBytes(store.path(digest)));
    }
}
