package io.capstan.web;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How the web layer admits the requests of a route: into a named {@link AdmissionBudget} configured
 * under {@code capstan.web.admission.<name>} (so many served at once, a bounded queue with a
 * deadline behind them, 429 beyond), or {@link #EXEMPT} from any budget. Exempt are the health
 * probes, which must answer under any load, and Raft's peer messages, which must never wait behind
 * client requests (the transport bounds its own work). Immutable.
 */
public final class Admission {

    /** Served at once, whatever the load. */
    public static final Admission EXEMPT = new Admission(null);

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    private final String budget;

    private Admission(String budget) {
        this.budget = budget;
    }

    /**
     * Admission through the budget {@code name}; the web server refuses to start when its settings
     * configure no budget of that name.
     *
     * @throws IllegalArgumentException unless {@code name} is 1..32 of {@code [a-z0-9-]}, starting
     *     with a letter
     */
    public static Admission budget(String name) {
        checkName(name);
        return new Admission(name);
    }

    /** The budget's name, or empty when exempt. */
    public Optional<String> budgetName() {
        return Optional.ofNullable(budget);
    }

    static void checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "admission budget name must be 1..32 of [a-z0-9-], starting with a"
                            + " letter: "
                            + name);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Admission that && Objects.equals(budget, that.budget);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(budget);
    }

    @Override
    public String toString() {
        return budget == null ? "exempt" : "budget " + budget;
    }
}
