package io.capstan.faults.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Linearizability of one key's operations against a register, by the Wing–Gong search as Lowe
 * refined it (the search Knossos and porcupine run): operations are tried in invocation order, an
 * operation may be linearized once every operation that completed before its invocation has been,
 * and each (set of linearized operations, register value) seen is remembered so that no state is
 * searched twice.
 *
 * <p>The register starts absent. Every completed write reports what it found (a put's or delete's
 * previous value, a cas's current value when its compare failed), so each completed operation
 * observes the register. An unknown operation completes at infinity: it may be linearized anywhere
 * after its invocation, or last, which is the same as never. An unknown put or cas whose value no
 * operation observed is left out: placed last it changes nothing anyone saw. An unknown operation
 * is never linearized where it would change nothing (leaving it for later keeps every option open),
 * and of the unknown deletes, which are all alike, only the first one still open is tried: both
 * keep the search sound and stop it from trying every subset of them.
 *
 * <p>The search is bounded by a deadline and a number of remembered states; past either it gives up
 * and says so, never reporting a pass it did not prove. Not thread-safe: one search per instance.
 */
final class Linearizability {
    /** The result of one key's search. */
    enum Outcome {
        LINEARIZABLE,
        NOT_LINEARIZABLE,
        GAVE_UP
    }

    /**
     * @param outcome what the search found
     * @param detail for a violation, where the search got stuck; for giving up, why
     * @param ops the operations searched
     * @param states the states remembered
     */
    record Result(Outcome outcome, String detail, int ops, int states) {}

    private static final int ABSENT = 0;
    private static final int INVALID = -1;

    private enum Kind {
        PUT,
        GET,
        CAS,
        DELETE
    }

    /**
     * One operation, its values interned; {@code observed} is what it saw (a read's value, a
     * write's previous).
     */
    private record Step(
            Op op,
            Kind kind,
            boolean known,
            int value,
            int expect,
            int observed,
            boolean succeeded) {}

    private static final class Entry {
        final Step step;
        final boolean call;
        final long time;
        final int id;
        Entry match;
        Entry prev;
        Entry next;

        Entry(Step step, boolean call, long time, int id) {
            this.step = step;
            this.call = call;
            this.time = time;
            this.id = id;
        }
    }

    private record Frame(Entry call, int stateBefore) {}

    /** A remembered search state: which operations are linearized, and the register's value. */
    private record Memo(long[] linearized, int state, int hash) {
        static Memo of(long[] linearized, int state) {
            long[] copy = linearized.clone();
            return new Memo(copy, state, 31 * Arrays.hashCode(copy) + state);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Memo m
                    && m.state == state
                    && Arrays.equals(m.linearized, linearized);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final long deadlineNanos;
    private final int maxStates;
    private final Map<String, Integer> values = new HashMap<>();

    /**
     * @param deadlineNanos the {@link System#nanoTime()} past which the search gives up
     * @param maxStates the most states it remembers before giving up (memory bound)
     */
    Linearizability(long deadlineNanos, int maxStates) {
        this.deadlineNanos = deadlineNanos;
        this.maxStates = maxStates;
    }

    /**
     * Searches one key's operations: completed and unknown gets, puts, cases and deletes; failed
     * operations are left out by the caller (a failed read says nothing, a failed write did not
     * happen).
     */
    Result check(List<Op> ops) {
        List<Step> steps = steps(ops);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            Entry call = new Entry(s, true, s.op.invoke(), i);
            Entry ret = new Entry(s, false, s.op.complete(), i);
            call.match = ret;
            entries.add(call);
            entries.add(ret);
        }
        // Calls before returns at equal times: such operations count as concurrent.
        entries.sort(
                Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> e.call ? 0 : 1));
        Entry head = new Entry(null, false, Long.MIN_VALUE, -1);
        Entry last = head;
        for (Entry e : entries) {
            last.next = e;
            e.prev = last;
            last = e;
        }
        return search(head, steps.size(), (int) steps.stream().filter(s -> s.known).count());
    }

    private Result search(Entry head, int count, int knownCount) {
        long[] linearized = new long[(count + 63) / 64];
        Set<Memo> seen = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        int state = ABSENT;
        int remaining = knownCount;
        int deepest = -1;
        String stuck = "";
        Entry entry = head.next;
        long iterations = 0;
        while (remaining > 0) {
            if ((++iterations & 1023) == 0 && System.nanoTime() - deadlineNanos > 0) {
                return new Result(
                        Outcome.GAVE_UP,
                        "time budget spent after " + seen.size() + " states",
                        count,
                        seen.size());
            }
            if (seen.size() > maxStates) {
                return new Result(
                        Outcome.GAVE_UP,
                        "state budget of " + maxStates + " spent",
                        count,
                        seen.size());
            }
            if (entry == null) {
                throw new IllegalStateException(
                        "search ran past the last entry with operations left");
            }
            if (entry.call) {
                int next = apply(state, entry.step);
                if (!entry.step.known && (next == state || isLaterUnknownDelete(head, entry))) {
                    // Dominated moves: an unknown operation that changes nothing now is as well
                    // left for later, and unknown deletes are all alike, so only the first open one
                    // is tried.
                    next = INVALID;
                }
                if (next != INVALID) {
                    set(linearized, entry.id);
                    if (seen.add(Memo.of(linearized, next))) {
                        stack.push(new Frame(entry, state));
                        state = next;
                        if (entry.step.known) {
                            remaining--;
                        }
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                    clear(linearized, entry.id);
                }
                entry = entry.next;
            } else {
                if (stack.size() > deepest) {
                    deepest = stack.size();
                    stuck = describeStuck(entry, state, head, stack.size());
                }
                if (stack.isEmpty()) {
                    return new Result(Outcome.NOT_LINEARIZABLE, stuck, count, seen.size());
                }
                Frame top = stack.pop();
                state = top.stateBefore;
                clear(linearized, top.call.id);
                if (top.call.step.known) {
                    remaining++;
                }
                unlift(top.call);
                entry = top.call.next;
            }
        }
        return new Result(Outcome.LINEARIZABLE, "", count, seen.size());
    }

    /** Whether {@code call} is an unknown delete with another one still open before it. */
    private static boolean isLaterUnknownDelete(Entry head, Entry call) {
        if (call.step.kind != Kind.DELETE) {
            return false;
        }
        for (Entry e = head.next; e != call; e = e.next) {
            if (e.call && !e.step.known && e.step.kind == Kind.DELETE) {
                return true;
            }
        }
        return false;
    }

    private String describeStuck(Entry blocked, int state, Entry head, int linearizedCount) {
        StringBuilder b = new StringBuilder();
        b.append("after ")
                .append(linearizedCount)
                .append(" operations the register held ")
                .append(name(state))
                .append(", and none of the operations open then could come next before ")
                .append(blocked.step.op)
                .append(" completed; open: ");
        int shown = 0;
        for (Entry e = head.next; e != null && shown < 8; e = e.next) {
            if (e.call && e.time < blocked.time) {
                b.append("\n    ").append(e.step.op);
                shown++;
            }
        }
        return b.toString();
    }

    private String name(int state) {
        if (state == ABSENT) {
            return "no value";
        }
        for (Map.Entry<String, Integer> e : values.entrySet()) {
            if (e.getValue() == state) {
                return e.getKey();
            }
        }
        return "#" + state;
    }

    private static int apply(int state, Step s) {
        return switch (s.kind) {
            case GET -> state == s.observed ? state : INVALID;
            case PUT -> !s.known || state == s.observed ? s.value : INVALID;
            case DELETE -> !s.known || state == s.observed ? ABSENT : INVALID;
            case CAS -> {
                if (!s.known) {
                    yield state == s.expect ? s.value : state;
                }
                if (s.succeeded) {
                    yield state == s.expect ? s.value : INVALID;
                }
                yield state == s.observed && state != s.expect ? state : INVALID;
            }
        };
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }

    private static void set(long[] bits, int i) {
        bits[i >>> 6] |= 1L << i;
    }

    private static void clear(long[] bits, int i) {
        bits[i >>> 6] &= ~(1L << i);
    }

    private List<Step> steps(List<Op> ops) {
        Set<String> observed = new HashSet<>();
        for (Op op : ops) {
            if (op.f().equals("cas")) {
                observed.add(op.call().expect());
            }
            if (op.ok()) {
                observed.add(op.f().equals("get") ? op.result().value() : op.result().prev());
            }
        }
        List<Step> steps = new ArrayList<>();
        for (Op op : ops) {
            boolean writesValue = op.f().equals("put") || op.f().equals("cas");
            if (op.unknown()
                    && (op.f().equals("get")
                            || writesValue && !observed.contains(op.call().value()))) {
                continue;
            }
            Kind kind = Kind.valueOf(op.f().toUpperCase(java.util.Locale.ROOT));
            int value = intern(op.call().value());
            int expect = intern(op.call().expect());
            int seen =
                    !op.ok()
                            ? ABSENT
                            : intern(kind == Kind.GET ? op.result().value() : op.result().prev());
            boolean succeeded = op.ok() && Boolean.TRUE.equals(op.result().succeeded());
            steps.add(new Step(op, kind, op.ok(), value, expect, seen, succeeded));
        }
        return steps;
    }

    private int intern(String value) {
        return value == null ? ABSENT : values.computeIfAbsent(value, v -> values.size() + 1);
    }
}
