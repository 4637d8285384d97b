package io.capstan.raft;

/**
 * What the apply thread tells the leader's expiry tracker about leases, in log order.
 * Implementations are called on the apply thread and must return at once (hand the event over,
 * never block); they must not change replicated state.
 */
interface LeaseEvents {
    LeaseEvents NONE =
            new LeaseEvents() {
                @Override
                public void granted(long id, long ttlSeconds) {}

                @Override
                public void renewed(long id, long ttlSeconds) {}

                @Override
                public void revoked(long id) {}
            };

    void granted(long id, long ttlSeconds);

    void renewed(long id, long ttlSeconds);

    void revoked(long id);
}
