package io.capstan.raft;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Backups and the seeds new clusters start from. A backup is what etcd's Maintenance.Snapshot
 * streams ({@code etcdctl snapshot save} writes it): a {@link SnapshotExport} followed by the
 * SHA-256 of everything before it. Seeding a member's Raft data directory from one puts the
 * backup's keyspace and leases (not its member records: the new cluster's members publish their
 * own) in a seed file that the member's state machine starts from when it has no Raft snapshot of
 * its own. Every member of the new cluster is seeded from the same backup, so they start from the
 * same state, as with {@code etcdutl snapshot restore}; afterwards the log and snapshots carry it
 * as usual. Stateless.
 */
public final class Backup {
    private static final String SEED = "seed.snapshot";
    private static final int SHA256_BYTES = 32;

    /** What a backup holds. */
    public record Contents(
            long revision, long compactRevision, int keys, int leases, String sha256) {}

    private Backup() {}

    /**
     * Reads {@code file} whole and checks it: the trailing SHA-256 matches, and the rest is a
     * snapshot Capstan can load.
     *
     * @throws IOException when it cannot be read, its checksum is wrong or its records are broken
     */
    public static Contents verify(Path file) throws IOException {
        return load(file).contents();
    }

    /**
     * Seeds the Raft data directory {@code raftDataDir} of a member of a new cluster from {@code
     * backup}, written atomically (temporary file, fsync, rename).
     *
     * @throws IOException when the backup does not verify, or the directory already holds Raft
     *     state (a member is restored only into an empty directory)
     */
    public static Contents seed(Path backup, Path raftDataDir) throws IOException {
        Loaded loaded = load(backup);
        if (Files.isDirectory(raftDataDir)) {
            try (Stream<Path> entries = Files.list(raftDataDir)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(
                            raftDataDir + " is not empty: restore only into a new data directory");
                }
            }
        }
        Files.createDirectories(raftDataDir);
        loaded.store().forgetMembers();
        Path seed = seedFile(raftDataDir);
        Path temp = seed.resolveSibling(SEED + ".tmp");
        try (OutputStream out =
                new BufferedOutputStream(
                        Files.newOutputStream(
                                temp,
                                StandardOpenOption.CREATE,
                                StandardOpenOption.TRUNCATE_EXISTING,
                                StandardOpenOption.WRITE),
                        1 << 16)) {
            SnapshotCodec.write(loaded.store(), out);
        }
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, seed, StandardCopyOption.ATOMIC_MOVE);
        return loaded.contents();
    }

    /** Where the seed of a member with Raft data directory {@code raftDataDir} lives. */
    static Path seedFile(Path raftDataDir) {
        return raftDataDir.resolve(SEED);
    }

    /** Reads a seed written by {@link #seed}. */
    static MvccStore readSeed(Path seed) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(seed), 1 << 16)) {
            return SnapshotCodec.read(in);
        }
    }

    private record Loaded(MvccStore store, Contents contents) {}

    private static Loaded load(Path file) throws IOException {
        long size = Files.size(file);
        if (size <= SHA256_BYTES) {
            throw new IOException(file + " is too short to be a backup (" + size + " bytes)");
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        MvccStore store;
        byte[] expected;
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream body =
                    new DigestInputStream(
                            new BufferedInputStream(new Bounded(raw, size - SHA256_BYTES), 1 << 16),
                            sha);
            try {
                store = SnapshotCodec.read(body, true);
                body.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new IOException(file + " is not a Capstan backup: " + e.getMessage(), e);
            }
            expected = raw.readNBytes(SHA256_BYTES);
        }
        byte[] actual = sha.digest();
        if (!Arrays.equals(expected, actual)) {
            throw new IOException(
                    file
                            + " fails its checksum: it ends with sha256 "
                            + HexFormat.of().formatHex(expected)
                            + ", its content hashes to "
                            + HexFormat.of().formatHex(actual));
        }
        return new Loaded(
                store,
                new Contents(
                        store.revision(),
                        store.compactRevision(),
                        store.keyCount(),
                        store.leaseCount(),
                        HexFormat.of().formatHex(actual)));
    }

    /** The first {@code limit} bytes of a stream; the rest stays unread for the caller. */
    private static final class Bounded extends InputStream {
        private final InputStream in;
        private long left;

        Bounded(InputStream in, long limit) {
            this.in = in;
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(buffer, offset, (int) Math.min(length, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
