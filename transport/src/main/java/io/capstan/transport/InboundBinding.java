package io.capstan.transport;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.ratis.server.RaftServer;

/**
 * Which Ratis server the member's inbound peer routes hand requests to. Unbound (routes answer 503)
 * until Ratis starts the server's RPC, bound while it runs, unbound again once Ratis closes it; one
 * server at a time. Also counts the requests handed to Ratis, so tests and metrics can tell what
 * reached it.
 *
 * <p>Thread-safety: the binding is an atomic reference written by Ratis's start and close and read
 * by every inbound request; the counter is a {@link LongAdder}.
 */
final class InboundBinding {

    private final AtomicReference<RaftServer> bound = new AtomicReference<>();
    private final LongAdder handedToRatis = new LongAdder();

    void bind(RaftServer server) {
        if (!bound.compareAndSet(null, server)) {
            throw new IllegalStateException(
                    "peer routes already serve "
                            + bound.get().getId()
                            + "; one peer transport carries one Raft server");
        }
    }

    void unbind(RaftServer server) {
        bound.compareAndSet(server, null);
    }

    /** The bound server, or null when none is. */
    RaftServer server() {
        return bound.get();
    }

    void countHandedToRatis() {
        handedToRatis.increment();
    }

    long handedToRatis() {
        return handedToRatis.sum();
    }
}
