package io.capstan.controller.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The configuration could not be bound. Carries every problem found, not only the first; the
 * message lists them one per line, ready to print.
 */
public final class SettingsException extends RuntimeException {
    private final List<Problem> problems;

    /**
     * @param problems at least one problem
     */
    public SettingsException(List<Problem> problems) {
        super(render(problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in the order found. */
    public List<Problem> problems() {
        return problems;
    }

    private static String render(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a SettingsException needs at least one problem");
        }
        String noun = problems.size() == 1 ? "problem" : "problems";
        return problems.stream()
                .map(Problem::toString)
                .collect(
                        Collectors.joining(
                                "\n",
                                "invalid configuration (" + problems.size() + " " + noun + "):\n",
                                ""));
    }
}
