package io.capstan.faults.check;

import io.capstan.faults.history.Event;

/**
 * A client operation: its invocation and how it ended. An unknown operation (timed out, connection
 * lost) has no completion: it may take effect at any time after its invocation, or never.
 *
 * @param index its position among the run's operations, in invocation order
 * @param invoke the invocation's time
 * @param complete the completion's time; {@link Long#MAX_VALUE} while unknown
 * @param outcome {@code ok}, {@code fail} or {@code unknown}
 * @param call the invocation's event (what was asked)
 * @param result the completion's event (what came back); null when the history ends before it
 */
record Op(int index, long invoke, long complete, String outcome, Event call, Event result) {

    boolean ok() {
        return Event.OK.equals(outcome);
    }

    boolean failed() {
        return Event.FAIL.equals(outcome);
    }

    boolean unknown() {
        return Event.UNKNOWN.equals(outcome);
    }

    String f() {
        return call.f();
    }

    String process() {
        return call.process();
    }

    String key() {
        return call.key();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append(call.process()).append(' ').append(call.f()).append(' ').append(call.key());
        if (call.expect() != null) {
            b.append(" expect=").append(call.expect());
        }
        if (call.value() != null) {
            b.append(" value=").append(call.value());
        }
        b.append(" -> ").append(outcome);
        if (result != null) {
            if (result.succeeded() != null) {
                b.append(result.succeeded() ? " succeeded" : " compare failed");
            }
            if (ok() && "get".equals(call.f())) {
                b.append(" read=").append(result.value());
            } else if (ok()) {
                b.append(" prev=").append(result.prev());
            }
            if (result.revision() != null) {
                b.append(" rev=").append(result.revision());
            }
            if (result.error() != null) {
                b.append(" (").append(result.error()).append(')');
            }
        }
        b.append(" [")
                .append(millis(invoke))
                .append("..")
                .append(complete == Long.MAX_VALUE ? "?" : millis(complete))
                .append(" ms]");
        return b.toString();
    }

    private static String millis(long nanos) {
        return String.format("%.1f", nanos / 1e6);
    }
}
