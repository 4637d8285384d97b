package io.capstan.transport;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Fault injection for tests: makes this member's outgoing peer requests to chosen peers disappear
 * or arrive late. Faults apply on the sending side only, so a partition between two members is set
 * on both of them ({@code a.faults().isolate(b)} and {@code b.faults().isolate(a)}). Every fault is
 * off until a test turns it on: an in-process test directly, a process test through the admin route
 * that {@code capstan.transport.fault-injection = on} adds.
 *
 * <p>A dropped request is never sent: its caller sees the request time out, as it would on a lossy
 * network. A delayed request is sent after the delay, which counts against its timeout. Requests
 * already on the wire are not affected.
 *
 * <p>Thread-safety: the rules are an immutable map replaced atomically, so tests may change them
 * from any thread while requests are being sent.
 */
public final class PeerFaults {

    /**
     * What happens to a request to one peer: dropped, or sent {@code delay} late (zero: at once).
     */
    public record Fault(boolean drop, Duration delay) {
        static final Fault NONE = new Fault(false, Duration.ZERO);

        public Fault {
            Objects.requireNonNull(delay, "delay");
            if (delay.isNegative() || drop && !delay.isZero()) {
                throw new IllegalArgumentException(
                        "a fault drops or delays by a positive time, was drop="
                                + drop
                                + " delay="
                                + delay);
            }
        }

        /** Requests are dropped. */
        public static Fault dropped() {
            return new Fault(true, Duration.ZERO);
        }

        /** Requests are sent {@code by} late; {@code by} must be positive. */
        public static Fault delayed(Duration by) {
            Objects.requireNonNull(by, "by");
            if (by.isZero() || by.isNegative()) {
                throw new IllegalArgumentException("delay must be positive, was " + by);
            }
            return new Fault(false, by);
        }
    }

    private final AtomicReference<Map<RaftPeerId, Fault>> rules = new AtomicReference<>(Map.of());
    private final LongAdder dropped = new LongAdder();

    /** Requests to each of {@code peers} are dropped from now on. */
    public void isolate(Collection<RaftPeerId> peers) {
        peers.forEach(peer -> set(peer, Fault.dropped()));
    }

    /** Requests to {@code peer} are dropped from now on. */
    public void isolate(RaftPeerId peer) {
        set(peer, Fault.dropped());
    }

    /** Requests to {@code peer} are sent {@code by} late from now on. */
    public void delay(RaftPeerId peer, Duration by) {
        set(peer, Fault.delayed(by));
    }

    /**
     * From now on exactly {@code faults} apply, in one step: requests to any other peer go through
     * normally.
     */
    public void replace(Map<RaftPeerId, Fault> faults) {
        Map<RaftPeerId, Fault> next = Map.copyOf(faults);
        rules.set(next);
    }

    /** The faults in force now, by peer; immutable. */
    public Map<RaftPeerId, Fault> rules() {
        return rules.get();
    }

    /** Requests to {@code peer} go through normally again. */
    public void heal(RaftPeerId peer) {
        Objects.requireNonNull(peer, "peer");
        rules.updateAndGet(
                current -> {
                    Map<RaftPeerId, Fault> next = new HashMap<>(current);
                    next.remove(peer);
                    return Map.copyOf(next);
                });
    }

    /** Every request goes through normally again. */
    public void healAll() {
        rules.set(Map.of());
    }

    /** How many requests were dropped so far. */
    public long droppedCount() {
        return dropped.sum();
    }

    Fault faultFor(RaftPeerId peer) {
        return rules.get().getOrDefault(peer, Fault.NONE);
    }

    void recordDrop() {
        dropped.increment();
    }

    private void set(RaftPeerId peer, Fault fault) {
        Objects.requireNonNull(peer, "peer");
        rules.updateAndGet(
                current -> {
                    Map<RaftPeerId, Fault> next = new HashMap<>(current);
                    next.put(peer, fault);
                    return Map.copyOf(next);
                });
    }
}
