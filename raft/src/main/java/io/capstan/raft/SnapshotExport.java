package io.capstan.raft;

import io.capstan.raft.proto.SnapshotHeader;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One member's whole state at one log index, opened for export (see {@link
 * MemberAdmin#exportSnapshot}): the records of its Raft snapshot file, in the snapshot codec's
 * format, then zero bytes up to a multiple of {@value #BLOCK} bytes, because etcd's snapshot
 * clients accept only such sizes. The file stays readable while open even if Raft deletes it
 * meanwhile.
 *
 * <p>States: open until {@link #close}. One thread at a time reads it, front to back.
 */
public final class SnapshotExport implements Closeable {
    /** etcd's clients take a snapshot's size, less its checksum, to be a multiple of this. */
    public static final int BLOCK = 512;

    private final FileChannel file;
    private final long fileBytes;
    private final long size;
    private final long revision;
    private final long logIndex;
    private long position;

    private SnapshotExport(FileChannel file, long fileBytes, long revision, long logIndex) {
        this.file = file;
        this.fileBytes = fileBytes;
        this.size = (fileBytes + BLOCK - 1) / BLOCK * BLOCK;
        this.revision = revision;
        this.logIndex = logIndex;
    }

    /** Opens the snapshot file {@code path}, taken at {@code logIndex}. */
    static SnapshotExport open(Path path, long logIndex) throws IOException {
        FileChannel file = FileChannel.open(path, StandardOpenOption.READ);
        try {
            // Reads from the channel's own position; read() below reads by absolute position.
            SnapshotHeader header =
                    SnapshotHeader.parseDelimitedFrom(Channels.newInputStream(file));
            if (header == null) {
                throw new IOException("snapshot " + path + " is empty");
            }
            return new SnapshotExport(file, file.size(), header.getRevision(), logIndex);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Bytes in the export, padding included. */
    public long size() {
        return size;
    }

    /** The keyspace revision the snapshot holds. */
    public long revision() {
        return revision;
    }

    /** The Raft log index the snapshot was taken at. */
    public long logIndex() {
        return logIndex;
    }

    /**
     * Reads the next bytes into {@code target}; blocking file I/O.
     *
     * @return how many, or -1 after the last
     */
    public int read(ByteBuffer target) throws IOException {
        if (position >= size) {
            return -1;
        }
        int n;
        if (position < fileBytes) {
            ByteBuffer window = target.slice();
            window.limit((int) Math.min(window.limit(), fileBytes - position));
            n = file.read(window, position);
            if (n < 0) {
                throw new IOException(
                        "snapshot file ended at " + position + " of " + fileBytes + " bytes");
            }
        } else {
            n = (int) Math.min(target.remaining(), size - position);
            target.put(target.position(), new byte[n]);
        }
        target.position(target.position() + n);
        position += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    /**
     * Writes the rest of this export to {@code out} in etcd's backup layout, the layout {@code
     * etcdctl snapshot save} writes and {@link Backup} reads: the export's bytes, then their
     * SHA-256. Blocking I/O; does not close {@code out}.
     */
    public void writeBackup(OutputStream out) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        while (true) {
            chunk.clear();
            if (read(chunk) < 0) {
                break;
            }
            sha256.update(chunk.array(), 0, chunk.position());
            out.write(chunk.array(), 0, chunk.position());
        }
        out.write(sha256.digest());
    }

    /**
     * The digest of the state an export holds, read from {@code export} (exactly the bytes {@link
     * #read} produced, without etcd's trailing checksum); equal to {@link RaftNode#stateDigest} of
     * the member at the snapshot's log index.
     *
     * @throws IOException when the bytes are not a whole export
     */
    public static StateDigest digestOf(InputStream export) throws IOException {
        MvccStore store = SnapshotCodec.read(new BufferedInputStream(export, 1 << 16), true);
        return new StateDigest(store.revision(), store.digestNow());
    }
}
