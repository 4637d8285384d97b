package io.capstan.raft;

import static io.capstan.raft.Ops.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LogReplay} on real members' files. Small log segments, so the log spans several, and no
 * automatic snapshot. A member that stops takes a snapshot and purges its log, so the tests replay
 * a copy of a running member's files, taken once the cluster is idle, as a killed member leaves
 * them.
 */
@ExtendWith(RaftClusterExtension.class)
@Timeout(120)
class LogReplayTest {
    private static final int KEYS = 60;

    /** With 4 KB segments, a few entries fill one. */
    private static final String VALUE = "v".repeat(500);

    @Test
    @RaftClusterExtension.SnapshotTuning
    void replaysEveryEntryOnDiskAndEndsBeforeATornLastEntry(RaftCluster cluster, @TempDir Path dir)
            throws IOException {
        StateDigest digest = write(cluster);
        RaftSettings copy = copyOf(cluster.settings(0), dir.resolve("n0"));

        LogReplay.Replayed whole = LogReplay.writeBackup(copy, dir.resolve("a"));
        assertEquals(digest.revision(), whole.revision());
        assertEquals(KEYS, whole.keys());
        Backup.Contents backup = Backup.verify(dir.resolve("a"));
        assertEquals(whole.revision(), backup.revision());
        assertEquals(KEYS, backup.keys());
        Backup.seed(dir.resolve("a"), dir.resolve("seeded"));
        MvccStore seeded = Backup.readSeed(Backup.seedFile(dir.resolve("seeded")));
        ByteString last = ByteString.copyFromUtf8("k" + (KEYS - 1));
        assertEquals(
                VALUE + (KEYS - 1), seeded.get(last, seeded.revision()).value().toStringUtf8());

        // The process died while writing its last entry: the replay stops before it. The open
        // segment is preallocated with zeros, so the entry ends at its last byte that is not one.
        List<Path> segments = List.copyOf(RaftFiles.logSegments(copy.dataDir()).values());
        Path newest = segments.get(segments.size() - 1);
        byte[] bytes = Files.readAllBytes(newest);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        try (FileChannel file = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            file.truncate(end - 1);
        }
        LogReplay.Replayed torn = LogReplay.writeBackup(copy, dir.resolve("b"));
        assertEquals(whole.logIndex() - 1, torn.logIndex());
        assertTrue(torn.revision() <= whole.revision(), torn + " after " + whole);
    }

    @Test
    @RaftClusterExtension.SnapshotTuning
    void aMissingSegmentIsAGapNotAShorterState(RaftCluster cluster, @TempDir Path dir)
            throws IOException {
        write(cluster);
        RaftSettings copy = copyOf(cluster.settings(1), dir.resolve("n1"));
        List<Path> segments = List.copyOf(RaftFiles.logSegments(copy.dataDir()).values());
        assertTrue(segments.size() >= 3, "segments: " + segments);
        Files.delete(segments.get(1));

        IOException gap =
                assertThrows(
                        IOException.class, () -> LogReplay.writeBackup(copy, dir.resolve("c")));
        assertTrue(gap.getMessage().startsWith("the log has no entry "), gap.getMessage());
        assertTrue(Files.notExists(dir.resolve("c")), "no backup is written from a log with a gap");
    }

    @Test
    void aRunningMembersStorageIsRefused(RaftCluster cluster, @TempDir Path dir) {
        cluster.awaitLeader();
        assertThrows(
                IOException.class,
                () -> LogReplay.writeBackup(cluster.settings(2), dir.resolve("d")));
        assertTrue(Files.notExists(dir.resolve("d")));
    }

    private static StateDigest write(RaftCluster cluster) {
        int leader = cluster.awaitLeader();
        for (int i = 0; i < KEYS; i++) {
            cluster.propose(leader, put("k" + i, VALUE + i));
        }
        return cluster.awaitConverged();
    }

    /** {@code settings} with a copy of its member's data directory at {@code target}. */
    private static RaftSettings copyOf(RaftSettings settings, Path target) throws IOException {
        Path source = settings.dataDir();
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : files.toList()) {
                Path copy = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(copy);
                } else {
                    Files.copy(file, copy);
                }
            }
        }
        return RaftSettings.builder(settings.nodeId(), settings.peers(), settings.groupId(), target)
                .build();
    }
}
