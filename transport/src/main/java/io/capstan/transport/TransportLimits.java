package io.capstan.transport;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;

/**
 * The size limits of peer traffic, all derived from one number so that what Ratis sends always fits
 * what the web layer accepts. Immutable.
 *
 * <p>An append batch is at most {@code appendBatchBytes} of entries (Ratis counts each entry's
 * serialized size) and at most {@value #APPEND_BATCH_ENTRIES} entries; the request around it adds a
 * header and a few bytes of framing per entry, which {@value #HEADROOM_BYTES} bytes of headroom
 * cover. A snapshot chunk is sized like an append batch. A client request becomes one log entry a
 * little larger than its message, so client bodies are held {@value #CLIENT_ENTRY_MARGIN_BYTES}
 * bytes below the batch limit: Ratis's leader fails on an entry larger than its append batch.
 *
 * @param peerBodyBytes body limit of the routes that carry server-to-server messages
 * @param appendBatchBytes Ratis's append batch and snapshot chunk limit
 * @param clientBodyBytes body limit of client and admin requests, on both sides
 */
record TransportLimits(long peerBodyBytes, long appendBatchBytes, long clientBodyBytes) {

    static final long HEADROOM_BYTES = 1L << 20;
    static final int APPEND_BATCH_ENTRIES = 4096;
    static final long CLIENT_ENTRY_MARGIN_BYTES = 4L << 10;

    /** Ratis's log writer frames each entry with a length and a checksum. */
    private static final long LOG_WRITE_FRAMING_BYTES = 8;

    /**
     * @param maxMessageBytes at least {@link TransportSettings#MIN_MESSAGE_BYTES}, as the settings
     *     ensure
     */
    static TransportLimits of(long maxMessageBytes) {
        long appendBatch = maxMessageBytes - HEADROOM_BYTES;
        return new TransportLimits(
                maxMessageBytes, appendBatch, appendBatch - CLIENT_ENTRY_MARGIN_BYTES);
    }

    /**
     * Sets Ratis's append batch limits and snapshot chunk size, and grows its log write buffer to
     * hold the largest entry (Ratis refuses to start otherwise). Leaves a larger write buffer
     * alone.
     */
    void applyTo(RaftProperties properties) {
        SizeInBytes batch = SizeInBytes.valueOf(appendBatchBytes);
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(properties, batch);
        RaftServerConfigKeys.Log.Appender.setBufferElementLimit(properties, APPEND_BATCH_ENTRIES);
        RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(properties, batch);
        long writeBuffer = RaftServerConfigKeys.Log.writeBufferSize(properties).getSize();
        if (writeBuffer < appendBatchBytes + LOG_WRITE_FRAMING_BYTES) {
            RaftServerConfigKeys.Log.setWriteBufferSize(
                    properties, SizeInBytes.valueOf(appendBatchBytes + LOG_WRITE_FRAMING_BYTES));
        }
    }
}
