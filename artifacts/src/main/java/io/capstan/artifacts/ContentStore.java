package io.capstan.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A member's content-addressed store: one file per artifact in one directory, named by the hex
 * digits of its SHA-256. No partial file is ever visible under a digest's name:
 *
 * <ul>
 *   <li>bytes go to a unique temporary file in the same directory (a {@link Writer}), which is
 *       fsynced, its digest checked, then renamed atomically into place and the directory fsynced;
 *       a mismatch, a size past the limit or a full disk deletes the temporary file and stores
 *       nothing;
 *   <li>a file already in place whose digest verifies is trusted and never rewritten (a second
 *       writer's identical bytes are dropped); one that does not verify is deleted, and the next
 *       write puts a good one in its place;
 *   <li>temporary files a crash left behind are removed by {@link #open()}.
 * </ul>
 *
 * <p>Threading: any thread. Each {@link Writer} belongs to one thread at a time. Placing, replacing
 * and deleting the file of one digest happen under that digest's lock stripe, so a check that found
 * a file corrupt never deletes a good one put there meanwhile. The set of files verified since
 * start is a concurrent set.
 */
final class ContentStore {
    static final String TEMP_SUFFIX = ".tmp";
    private static final int BUFFER_BYTES = 64 * 1024;
    private static final int STRIPES = 64;

    /** Opens the channel a writer's bytes go to; the real file system except in tests. */
    @FunctionalInterface
    interface ChannelOpener {
        FileChannel open(Path temp) throws IOException;
    }

    private final Path dir;
    private final ArtifactStats stats;
    private final ChannelOpener opener;
    private final Set<Digest> verified = ConcurrentHashMap.newKeySet();
    private final Object[] stripes = new Object[STRIPES];

    ContentStore(Path dir, ArtifactStats stats) {
        this(
                dir,
                stats,
                temp ->
                        FileChannel.open(
                                temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    ContentStore(Path dir, ArtifactStats stats, ChannelOpener opener) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.stats = Objects.requireNonNull(stats, "stats");
        this.opener = Objects.requireNonNull(opener, "opener");
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
    }

    /**
     * Creates the directory when missing and removes the temporary files a crash left behind.
     *
     * @return how many temporary files were removed
     */
    int open() throws IOException {
        Files.createDirectories(dir);
        int removed = 0;
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, ".*" + TEMP_SUFFIX)) {
            for (Path temp : temps) {
                Files.deleteIfExists(temp);
                removed++;
            }
        }
        if (removed > 0) {
            syncDirectory();
        }
        return removed;
    }

    Path dir() {
        return dir;
    }

    /** Where the file of {@code digest} is (or would be). */
    Path path(Digest digest) {
        return dir.resolve(digest.hex());
    }

    /** Whether a file is in place for {@code digest}, verified or not. */
    boolean contains(Digest digest) {
        return Files.isRegularFile(path(digest));
    }

    /**
     * The file of {@code digest} when it is in place and its bytes hash to it. The first call after
     * start reads the whole file; later ones trust that check. A file that does not verify is
     * deleted (and counted as a verify failure), and the answer is empty.
     */
    Optional<Path> verified(Digest digest) throws IOException {
        Path path = path(digest);
        if (verified.contains(digest) && Files.isRegularFile(path)) {
            return Optional.of(path);
        }
        Object fileKey;
        Digest actual;
        try {
            fileKey = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            actual = hash(path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (actual.equals(digest)) {
            verified.add(digest);
            return Optional.of(path);
        }
        stats.verifyFailed();
        synchronized (stripe(digest)) {
            // Only the file that was checked: a good one put in place meanwhile stays.
            if (sameFile(path, fileKey)) {
                Files.deleteIfExists(path);
                syncDirectory();
            }
        }
        return Optional.empty();
    }

    /** A writer of the bytes of {@code expected}, at most {@code maxBytes} of them. */
    Writer writer(Digest expected, long maxBytes) throws IOException {
        return new Writer(expected, maxBytes);
    }

    /** Stores what {@code in} holds as the bytes of {@code expected} (see {@link Writer}). */
    Path write(Digest expected, InputStream in, long maxBytes) throws IOException {
        try (Writer writer = writer(expected, maxBytes)) {
            byte[] buffer = new byte[BUFFER_BYTES];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                writer.write(ByteBuffer.wrap(buffer, 0, n));
            }
            return writer.commit();
        }
    }

    /**
     * Moves {@code file} (on the store's file system, e.g. a finished upload) into the store under
     * the digest of its bytes, after syncing it; when {@code expected} is given the bytes must hash
     * to it. The file is gone afterwards either way.
     *
     * @return the digest of the bytes
     * @throws ArtifactException DIGEST_MISMATCH when they do not hash to {@code expected}
     */
    Digest adopt(Path file, Optional<Digest> expected) throws IOException {
        try {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Digest actual = hash(file);
            if (expected.isPresent() && !expected.get().equals(actual)) {
                stats.verifyFailed();
                throw new ArtifactException(
                        ArtifactException.Kind.DIGEST_MISMATCH,
                        "the bytes have digest "
                                + actual
                                + ", not "
                                + expected.get()
                                + "; nothing was stored");
            }
            place(file, actual);
            return actual;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Deletes the file of {@code digest}, if any. */
    void delete(Digest digest) throws IOException {
        synchronized (stripe(digest)) {
            verified.remove(digest);
            if (Files.deleteIfExists(path(digest))) {
                syncDirectory();
            }
        }
    }

    /** The digests of the files in place (a file with another name is not the store's). */
    List<Digest> list() throws IOException {
        List<Digest> digests = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (Digest.isHex(name)) {
                    digests.add(new Digest(name));
                }
            }
        }
        return digests;
    }

    /** When the file of {@code digest} was last written. */
    Instant modified(Digest digest) throws IOException {
        return Files.getLastModifiedTime(path(digest)).toInstant();
    }

    private static Digest hash(Path file) throws IOException {
        MessageDigest sha = Digest.hasher();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                sha.update(buffer);
                buffer.clear();
            }
        }
        return Digest.of(sha);
    }

    /** Renames the synced {@code source}, whose bytes hash to {@code digest}, into place. */
    private void place(Path source, Digest digest) throws IOException {
        Path target = path(digest);
        synchronized (stripe(digest)) {
            if (verified.contains(digest) && Files.isRegularFile(target)) {
                // Trusted bytes are never rewritten; these are the same ones.
                Files.deleteIfExists(source);
                return;
            }
            Files.move(
                    source,
                    target,
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            syncDirectory();
            verified.add(digest);
        }
    }

    private Object stripe(Digest digest) {
        return stripes[Math.floorMod(digest.hashCode(), STRIPES)];
    }

    private static boolean sameFile(Path path, Object fileKey) throws IOException {
        try {
            return Objects.equals(
                    fileKey, Files.readAttributes(path, BasicFileAttributes.class).fileKey());
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** A full disk reads as ENOSPC, which Java reports only in the message. */
    private static boolean isDiskFull(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null
                    && (message.contains("No space left")
                            || message.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes one artifact's bytes into a temporary file of the store, hashing them as they come;
     * {@link #commit()} checks the digest and moves the file into place, {@link #close()} without a
     * commit deletes it. Used by one thread at a time (a fetch's body subscriber, then the fetch
     * thread that commits, with a happens-before edge between them).
     */
    final class Writer implements AutoCloseable {
        private final Digest expected;
        private final long maxBytes;
        private final Path temp;
        private final FileChannel channel;
        private final MessageDigest sha = Digest.hasher();
        private long written;
        private boolean done;

        private Writer(Digest expected, long maxBytes) throws IOException {
            this.expected = expected;
            this.maxBytes = maxBytes;
            this.temp = dir.resolve("." + expected.hex() + "." + UUID.randomUUID() + TEMP_SUFFIX);
            try {
                this.channel = opener.open(temp);
            } catch (IOException e) {
                Files.deleteIfExists(temp);
                throw failure(e);
            }
        }

        /** Bytes written so far. */
        long written() {
            return written;
        }

        /**
         * Appends {@code bytes}.
         *
         * @throws ArtifactException TOO_LARGE past the size limit, STORE_FULL on a full disk
         */
        void write(ByteBuffer bytes) throws IOException {
            int n = bytes.remaining();
            if (written + n > maxBytes) {
                throw new ArtifactException(
                        ArtifactException.Kind.TOO_LARGE,
                        "artifact "
                                + expected
                                + " is larger than the limit of "
                                + maxBytes
                                + " bytes; nothing was stored");
            }
            sha.update(bytes.duplicate());
            try {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            } catch (IOException e) {
                throw failure(e);
            }
            written += n;
        }

        /**
         * Syncs the bytes, checks their digest and moves them into place.
         *
         * @throws ArtifactException DIGEST_MISMATCH (nothing stored), STORE_FULL
         */
        Path commit() throws IOException {
            done = true;
            try {
                channel.force(true);
                channel.close();
            } catch (IOException e) {
                discard();
                throw failure(e);
            }
            Digest actual = Digest.of(sha);
            if (!actual.equals(expected)) {
                discard();
                stats.verifyFailed();
                throw new ArtifactException(
                        ArtifactException.Kind.DIGEST_MISMATCH,
                        "the "
                                + written
                                + " bytes received have digest "
                                + actual
                                + ", not "
                                + expected
                                + "; nothing was stored");
            }
            try {
                place(temp, expected);
            } catch (IOException e) {
                discard();
                throw failure(e);
            }
            return path(expected);
        }

        /** Deletes the temporary file unless {@link #commit()} ran. */
        @Override
        public void close() throws IOException {
            if (!done) {
                done = true;
                discard();
            }
        }

        private void discard() throws IOException {
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }

        private IOException failure(IOException e) {
            if (e instanceof ArtifactException || !isDiskFull(e)) {
                return e;
            }
            return new ArtifactException(
                    ArtifactException.Kind.STORE_FULL,
                    "the artifact store "
                            + dir
                            + " is full ("
                            + e.getMessage()
                            + ") after "
                            + written
                            + " bytes of "
                            + expected
                            + "; nothing was stored",
                    e);
        }
    }
}
