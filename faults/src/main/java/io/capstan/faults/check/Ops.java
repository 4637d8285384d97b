package io.capstan.faults.check;

import io.capstan.faults.history.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pairs each process's invocations with their completions; a process has one operation open at a
 * time.
 */
final class Ops {
    private Ops() {}

    /**
     * The operations of {@code events}, in invocation order. An invocation without a completion
     * (the history ended first) is unknown.
     *
     * @throws IllegalArgumentException when a process invokes while its previous operation is open,
     *     or completes what it never invoked
     */
    static List<Op> pair(List<Event> events) {
        Map<String, Event> open = new HashMap<>();
        Map<String, Integer> openIndex = new HashMap<>();
        List<Op> ops = new ArrayList<>();
        List<Event> calls = new ArrayList<>();
        for (Event e : events) {
            switch (e.type()) {
                case Event.INVOKE -> {
                    if (open.containsKey(e.process())) {
                        throw new IllegalArgumentException(
                                e.process()
                                        + " invoked "
                                        + e.f()
                                        + " at "
                                        + e.time()
                                        + " while its "
                                        + open.get(e.process()).f()
                                        + " was open");
                    }
                    open.put(e.process(), e);
                    openIndex.put(e.process(), calls.size());
                    calls.add(e);
                    ops.add(null);
                }
                case Event.OK, Event.FAIL, Event.UNKNOWN -> {
                    Event call = open.remove(e.process());
                    if (call == null) {
                        throw new IllegalArgumentException(
                                e.process()
                                        + " completed "
                                        + e.f()
                                        + " at "
                                        + e.time()
                                        + " without an invocation");
                    }
                    int index = openIndex.remove(e.process());
                    long complete = Event.UNKNOWN.equals(e.type()) ? Long.MAX_VALUE : e.time();
                    ops.set(index, new Op(index, call.time(), complete, e.type(), call, e));
                }
                default -> {
                    // watch lines are not operations
                }
            }
        }
        open.forEach(
                (process, call) -> {
                    int index = openIndex.get(process);
                    ops.set(
                            index,
                            new Op(index, call.time(), Long.MAX_VALUE, Event.UNKNOWN, call, null));
                });
        return ops;
    }
}
