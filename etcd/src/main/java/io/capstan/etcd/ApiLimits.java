package io.capstan.etcd;

/**
 * Bounds the etcd API applies to each request before anything is proposed.
 *
 * @param maxRequestBytes largest encoded request, as etcd's {@code --max-request-bytes} (default
 *     1.5 MiB); a larger one is refused with {@code etcdserver: request is too large}. The gRPC
 *     listener accepts messages up to this plus {@link #GRPC_OVERHEAD_BYTES}, so that a request
 *     just over the limit gets etcd's error rather than a transport error, as in etcd
 * @param maxTxnOps most compares, or most operations in one branch, of a transaction, as etcd's
 *     {@code --max-txn-ops} (default 128)
 * @param maxWatchesPerStream most watches one Watch stream holds at once; etcd has no such bound,
 *     and answers a create beyond it as it answers any refused create (default 1000)
 */
public record ApiLimits(int maxRequestBytes, int maxTxnOps, int maxWatchesPerStream) {

    /** etcd's defaults, and Capstan's watches per stream. */
    public static final ApiLimits DEFAULT = new ApiLimits(1536 * 1024, 128, 1000);

    /**
     * Room above {@link #maxRequestBytes} that the gRPC listener allows (etcd allows the same 512
     * KiB).
     */
    public static final int GRPC_OVERHEAD_BYTES = 512 * 1024;

    public ApiLimits {
        if (maxRequestBytes < 1 || maxRequestBytes > Integer.MAX_VALUE - GRPC_OVERHEAD_BYTES) {
            throw new IllegalArgumentException(
                    "maxRequestBytes must be 1.."
                            + (Integer.MAX_VALUE - GRPC_OVERHEAD_BYTES)
                            + ", was "
                            + maxRequestBytes);
        }
        if (maxTxnOps < 1) {
            throw new IllegalArgumentException("maxTxnOps must be at least 1, was " + maxTxnOps);
        }
        if (maxWatchesPerStream < 1) {
            throw new IllegalArgumentException(
                    "maxWatchesPerStream must be at least 1, was " + maxWatchesPerStream);
        }
    }

    /** The gRPC listener's inbound message limit. */
    int maxInboundMessageBytes() {
        return maxRequestBytes + GRPC_OVERHEAD_BYTES;
    }

    /**
     * The JSON gateway's body limit: base64 makes bytes a third larger and JSON adds field names
     * and quotes, so twice the request limit leaves room for any request the limit admits.
     */
    long maxGatewayBodyBytes() {
        return 2L * maxRequestBytes + 64 * 1024;
    }
}
