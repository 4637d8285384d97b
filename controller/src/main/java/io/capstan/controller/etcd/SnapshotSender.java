package io.capstan.controller.etcd;

import com.google.protobuf.UnsafeByteOperations;
import io.capstan.etcd.api.SnapshotResponse;
import io.capstan.raft.SnapshotExport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one member snapshot as etcd's Maintenance.Snapshot does, over whatever carries the call (a
 * gRPC stream or a gateway stream): the export in chunks of {@value #CHUNK_BYTES} bytes, each with
 * the bytes still to come in {@code remaining_bytes}, then one last message whose blob is the
 * SHA-256 of every byte sent before it, so a client that appends the blobs gets etcd's layout (data,
 * then its 32-byte checksum). The first message's header names the snapshot's revision.
 *
 * <p><b>Flow control.</b> Chunks are read from the file only while the transport takes messages
 * without buffering ({@link Outbound#isReady}); then sending stops until {@link #ready}, so at most
 * a chunk or two is in memory whatever the snapshot's size.
 *
 * <p><b>Threads and states.</b> Sending runs on the API executor, one pass at a time (passes are
 * serialized by this object's lock, which guards every mutable field and every call of the
 * {@link Outbound}); {@link #ready} and {@link #cancel} only schedule a pass, so any thread may call
 * them. OPENING until the export is open, then SENDING, then ENDED: after the checksum, a failure,
 * or a cancellation (the client went away). Whatever ends it closes the export.
 */
final class SnapshotSender {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotSender.class);
    /** etcd's chunk size. */
    static final int CHUNK_BYTES = 32 * 1024;

    /** Where the messages go; called under the sender's lock, from one thread at a time. */
    interface Outbound {
        /** The transport takes a message now without buffering past its own bound. */
        boolean isReady();

        void send(SnapshotResponse response);

        /** Every message was sent. */
        void complete();

        void fail(EtcdError error);
    }

    private enum State { OPENING, SENDING, ENDED }

    private final RaftCalls raft;
    private final Outbound out;
    private final Executor executor;

    /** Set by {@link #cancel} without the lock, so the thread that cancels never waits on a read. */
    private volatile boolean canceled;

    // ---- guarded by this ----
    private State state = State.OPENING;
    private SnapshotExport export;
    private MessageDigest sha256;
    private long sent;

    /** @param executor the API executor, where sending runs */
    SnapshotSender(RaftCalls raft, Outbound out, Executor executor) {
        this.raft = raft;
        this.out = out;
        this.executor = executor;
    }

    /**
     * Sends the export {@code opening} completes with, or fails the call with its failure. Call
     * once, after the transport can reach {@link #ready} and {@link #cancel}.
     */
    void start(CompletableFuture<SnapshotExport> opening) {
        opening.whenComplete(this::opened);
    }

    /** The transport takes messages again. */
    void ready() {
        schedule();
    }

    /** The client went away: sending stops and the export is closed. */
    void cancel() {
        canceled = true;
        schedule();
    }

    private synchronized void opened(SnapshotExport opened, Throwable error) {
        if (error != null) {
            state = State.ENDED;
            if (!canceled) {
                out.fail(EtcdErrors.of(error));
            }
            return;
        }
        export = opened;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        state = State.SENDING;
        LOG.info("[{}] sending snapshot at revision {} (log index {}, {} bytes)", raft.status().nodeId(),
                opened.revision(), opened.logIndex(), opened.size());
        schedule();
    }

    private void schedule() {
        try {
            executor.execute(this::pass);
        } catch (RejectedExecutionException e) {
            // The executor stops only with the API; the call ends with it.
            canceled = true;
            synchronized (this) {
                end();
            }
        }
    }

    /** Sends while the transport is ready; ends the call after the checksum. */
    private synchronized void pass() {
        if (state != State.SENDING) {
            return;
        }
        if (canceled) {
            end();
            return;
        }
        try {
            while (out.isReady()) {
                if (sent == export.size()) {
                    out.send(SnapshotResponse.newBuilder()
                            .setBlob(UnsafeByteOperations.unsafeWrap(sha256.digest()))
                            .build());
                    out.complete();
                    end();
                    LOG.info("[{}] sent snapshot at revision {}", raft.status().nodeId(), export.revision());
                    return;
                }
                out.send(nextChunk());
            }
        } catch (IOException e) {
            LOG.warn("[{}] reading the snapshot to send failed", raft.status().nodeId(), e);
            out.fail(EtcdErrors.unknown("snapshot read failed: " + e.getMessage()));
            end();
        }
    }

    private SnapshotResponse nextChunk() throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, export.size() - sent));
        while (chunk.hasRemaining()) {
            if (export.read(chunk) < 0) {
                throw new IOException("the snapshot ended after " + (sent + chunk.position()) + " of "
                        + export.size() + " bytes");
            }
        }
        sha256.update(chunk.array());
        SnapshotResponse.Builder response = SnapshotResponse.newBuilder()
                .setRemainingBytes(export.size() - sent - chunk.capacity())
                .setBlob(UnsafeByteOperations.unsafeWrap(chunk.array()));
        if (sent == 0) {
            response.setHeader(raft.header(export.revision()));
        }
        sent += chunk.capacity();
        return response.build();
    }

    private void end() {
        state = State.ENDED;
        if (export != null) {
            try {
                export.close();
            } catch (IOException e) {
                LOG.debug("closing a snapshot export: {}", e.toString());
            }
        }
    }
}
