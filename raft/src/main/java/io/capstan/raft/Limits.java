package io.capstan.raft;

/**
 * Bounds on what a command may carry; a command outside them is refused before it is proposed.
 *
 * @param maxKeyBytes longest key (and range end)
 * @param maxValueBytes longest value
 * @param maxRequestBytes largest encoded command (etcd's default --max-request-bytes is 1.5 MiB)
 * @param maxTxnOps most compares, or most operations in one branch, of a transaction (etcd: 128)
 * @param maxLeaseTtlSeconds longest lease TTL (etcd: 9,000,000,000 s)
 */
public record Limits(
        int maxKeyBytes,
        int maxValueBytes,
        int maxRequestBytes,
        int maxTxnOps,
        long maxLeaseTtlSeconds) {

    public static final Limits DEFAULT =
            new Limits(1536, 1536 * 1024, 1536 * 1024, 128, 9_000_000_000L);

    public Limits {
        positive("maxKeyBytes", maxKeyBytes);
        positive("maxValueBytes", maxValueBytes);
        positive("maxRequestBytes", maxRequestBytes);
        positive("maxTxnOps", maxTxnOps);
        positive("maxLeaseTtlSeconds", maxLeaseTtlSeconds);
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
