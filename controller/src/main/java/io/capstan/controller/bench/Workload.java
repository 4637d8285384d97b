package io.capstan.controller.bench;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** What the {@code --endpoints} mode measures, as {@code --workload} names it. */
enum Workload {
    /** A put of a key no other put uses. */
    PUT("put", "put"),
    /** A linearizable range of one key of the preloaded set. */
    RANGE_LINEARIZABLE("range-linearizable", "range, linearizable"),
    /**
     * A serializable range of one key of the preloaded set: the member answers from its own state.
     */
    RANGE_SERIALIZABLE("range-serializable", "range, serializable"),
    /**
     * A transaction on the client's own key: if its mod revision is the one last seen, put a new
     * value.
     */
    TXN_CAS("txn-cas", "txn compare-and-set"),
    /**
     * Puts, as {@link #PUT}, to keys that every watcher watches; also measures each event's
     * delivery.
     */
    WATCH("watch", "watch (puts)");

    final String option;

    /** How reports name it. */
    final String title;

    Workload(String option, String title) {
        this.option = option;
        this.title = title;
    }

    /**
     * The title of the workload {@code option} names; the name itself when it is not one of these.
     */
    static String titleOf(String option) {
        return named(option).map(w -> w.title).orElse(option);
    }

    /** Where {@code option} sorts in reports: this enum's order, unknown names last. */
    static int rankOf(String option) {
        return named(option).map(Enum::ordinal).orElse(values().length);
    }

    static Optional<Workload> named(String option) {
        return Arrays.stream(values()).filter(w -> w.option.equals(option)).findFirst();
    }

    static String names() {
        return Arrays.stream(values()).map(w -> w.option).collect(Collectors.joining(", "));
    }
}
