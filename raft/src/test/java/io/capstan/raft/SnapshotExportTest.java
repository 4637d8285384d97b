package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SnapshotExportTest {

    @TempDir Path dir;

    private static Keyspace populated() {
        Keyspace ks = new Keyspace();
        ks.apply(Ops.grant(7, 60));
        for (int i = 0; i < 50; i++) {
            ks.apply(put("k" + i, "value " + i));
        }
        ks.apply(Ops.delete("k3"));
        ks.apply(Ops.compact(10));
        return ks;
    }

    private Path snapshotFile(MvccStore store) throws IOException {
        Path file = dir.resolve("snapshot.1_42");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotCodec.write(store, out);
        Files.write(file, out.toByteArray());
        return file;
    }

    /** Reads the whole export through a buffer of {@code chunk} bytes. */
    private static byte[] readAll(SnapshotExport export, int chunk) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(chunk);
        while (export.read(buffer.clear()) >= 0) {
            all.write(buffer.array(), 0, buffer.position());
        }
        return all.toByteArray();
    }

    @Test
    void anExportIsTheSnapshotPaddedToWholeBlocksAndDigestsLikeTheStore() throws IOException {
        Keyspace ks = populated();
        Path file = snapshotFile(ks.store);
        byte[] snapshot = Files.readAllBytes(file);

        byte[] exported;
        try (SnapshotExport export = SnapshotExport.open(file, 42)) {
            assertEquals(ks.store.revision(), export.revision());
            assertEquals(42, export.logIndex());
            assertEquals(0, export.size() % SnapshotExport.BLOCK);
            assertTrue(export.size() >= snapshot.length && export.size() - snapshot.length < 512);
            exported = readAll(export, 100);
            assertEquals(-1, export.read(ByteBuffer.allocate(8)));
        }
        assertEquals(exported.length % SnapshotExport.BLOCK, 0);
        assertArrayEquals(snapshot, Arrays.copyOf(exported, snapshot.length));
        for (int i = snapshot.length; i < exported.length; i++) {
            assertEquals(0, exported[i], "padding byte " + i);
        }

        StateDigest digest = SnapshotExport.digestOf(new ByteArrayInputStream(exported));
        assertEquals(new StateDigest(ks.store.revision(), ks.store.digestNow()), digest);
    }

    @Test
    void theFileStaysReadableAfterRaftDeletesIt() throws IOException {
        Keyspace ks = populated();
        Path file = snapshotFile(ks.store);
        try (SnapshotExport export = SnapshotExport.open(file, 1)) {
            Files.delete(file);
            byte[] exported = readAll(export, 4096);
            assertEquals(
                    ks.store.digestNow(),
                    SnapshotExport.digestOf(new ByteArrayInputStream(exported)).sha256());
        }
    }

    @Test
    void aDecodedExportRefusesMoreThanPaddingAfterItsRecords() throws IOException {
        Keyspace ks = populated();
        byte[] exported;
        try (SnapshotExport export = SnapshotExport.open(snapshotFile(ks.store), 1)) {
            exported = readAll(export, 4096);
        }
        byte[] withGarbage = exported.clone();
        withGarbage[withGarbage.length - 1] = 1;
        IOException garbage =
                assertThrows(
                        IOException.class,
                        () -> SnapshotExport.digestOf(new ByteArrayInputStream(withGarbage)));
        assertTrue(garbage.getMessage().contains("data after its last record"));

        byte[] extraBlock = Arrays.copyOf(exported, exported.length + SnapshotExport.BLOCK);
        assertThrows(
                IOException.class,
                () -> SnapshotExport.digestOf(new ByteArrayInputStream(extraBlock)));
        assertThrows(
                IOException.class,
                () -> SnapshotCodec.read(new ByteArrayInputStream(exported)),
                "a Raft snapshot file has no padding");
    }

    @Test
    void anEmptyFileIsNotASnapshot() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> SnapshotExport.open(empty, 1));
        assertTrue(e.getMessage().contains("is empty"));
    }
}
