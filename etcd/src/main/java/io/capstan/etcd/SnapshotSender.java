package io.capstan.etcd;

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
 * SHA-256 of every byte sent before it, so a client that appends the blobs gets etcd's layout
 * (data, then its 32-byte checksum). The first message's header names the snapshot's revision.
 *
 * <p><b>Flow control.</b> Chunks are read from the file only while the transport takes messages
 * without buffering ({@link Outbound#isReady}); then sending stops until {@link #ready}, so at most
 * a chunk or two is in memory whatever the snapshot's size.
 *
 * <p><b>Threads and states.</b> Sending runs on the API executor, one pass at a time (passes are
 * serialized by this object's lock, which guards every mutable field and every call of the {@link
 * Outbound}); {@link #ready}, {@link #cancel} and {@link #end} only schedule a pass, so any thread
 * may call them. OPENING until the export is open, then SENDING, then ENDED: after the checksum, a
 * failure, a cancellation (the client went away), or the member stopping, which fails the call with
 * UNAVAILABLE ({@link OpenStreams}). Whatever ends it closes the export.
 */
final class SnapshotSender implements OpenStreams.Stream {

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

    private enum State {
        OPENING,
        SENDING,
        ENDED
    }

    private final RaftCalls raft;
    private final Outbound out;
    private final Executor executor;
    private final OpenStreams streams;

    /**
     * Set by {@link #cancel} without the lock, so the thread that cancels never waits on a read.
     */
    private volatile boolean canceled;

    /**
     * Set by {@link #end} without the lock, for the same reason: the failure to end the call with.
     */
    private volatile EtcdError stopped;

    // ---- guarded by this ----
    private State state = State.OPENING;
    private SnapshotExport export;
    private MessageDigest sha256;
    private long sent;

    /**
     * @param executor the API executor, where sending runs
     * @param streams where the sender is open from {@link #start} until it ends
     */
    SnapshotSender(RaftCalls raft, Outbound out, Executor executor, OpenStreams streams) {
        this.raft = raft;
        this.out = out;
        this.executor = executor;
        this.streams = streams;
    }

    /**
     * Sends the export {@code opening} completes with, or fails the call with its failure. Call
     * once, after the transport can reach {@link #ready} and {@link #cancel}.
     */
    void start(CompletableFuture<SnapshotExport> opening) {
        streams.opened(this);
        opening.whenComplete(this::opened);
    }

    /**
     * The member stops: sending stops, the export is closed and the call fails with {@code error}.
     */
    @Override
    public void end(EtcdError error) {
        stopped = error;
        schedule();
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
        if (state != State.OPENING) {
            // Ended by the member's stop while opening.
            closeQuietly(opened);
            return;
        }
        if (error != null) {
            state = State.ENDED;
            streams.closed(this);
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
        LOG.info(
                "[{}] sending snapshot at revision {} (log index {}, {} bytes)",
                raft.status().nodeId(),
                opened.revision(),
                opened.logIndex(),
                opened.size());
        schedule();
    }

    private void schedule() {
        try {
            executor.execute(this::pass);
        } catch (RejectedExecutionException e) {
            // The executor stops only with the API, once every stream was told to end.
            synchronized (this) {
                EtcdError failure = stopped;
                if (state != State.ENDED && failure != null && !canceled) {
                    out.fail(failure);
                }
                finish();
            }
        }
    }

    /** Sends while the transport is ready; ends the call after the checksum, or once stopped. */
    private synchronized void pass() {
        if (state == State.ENDED || (state == State.OPENING && stopped == null)) {
            return;
        }
        if (canceled) {
            finish();
            return;
        }
        try {
            while (stopped == null && state == State.SENDING && out.isReady()) {
                if (sent == export.size()) {
                    out.send(
                            SnapshotResponse.newBuilder()
                                    .setBlob(UnsafeByteOperations.unsafeWrap(sha256.digest()))
                                    .build());
                    out.complete();
                    finish();
                    LOG.info(
                            "[{}] sent snapshot at revision {}",
                            raft.status().nodeId(),
                            export.revision());
                    return;
                }
                out.send(nextChunk());
            }
            EtcdError failure = stopped;
            if (failure != null) {
                out.fail(failure);
                finish();
            }
        } catch (IOException e) {
            LOG.warn("[{}] reading the snapshot to send failed", raft.status().nodeId(), e);
            out.fail(EtcdErrors.unknown("snapshot read failed: " + e.getMessage()));
            finish();
        }
    }

    private SnapshotResponse nextChunk() throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, export.size() - sent));
        while (chunk.hasRemaining()) {
            if (export.read(chunk) < 0) {
                throw new IOException(
                        "the snapshot ended after "
                                + (sent + chunk.position())
                                + " of "
                                + export.size()
                                + " bytes");
            }
        }
        sha256.update(chunk.array());
        SnapshotResponse.Builder response =
                SnapshotResponse.newBuilder()
                        .setRemainingBytes(export.size() - sent - chunk.capacity())
                        .setBlob(UnsafeByteOperations.unsafeWrap(chunk.array()));
        if (sent == 0) {
            response.setHeader(raft.header(export.revision()));
        }
        sent += chunk.capacity();
        return response.build();
    }

    /** Under the lock: the call is over; closes the export. */
    private void finish() {
        state = State.ENDED;
        streams.closed(this);
        closeQuietly(export);
    }

    private static void closeQuietly(SnapshotExport export) {
        if (export != null) {
            try {
                export.close();
            } catch (IOException e) {
                LOG.debug("closing a snapshot export: {}", e.toString());
            }
        }
    }
}
