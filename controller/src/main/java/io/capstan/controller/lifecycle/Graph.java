package io.capstan.controller.lifecycle;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated component graph: the registrations in start order (every component after all of its
 * dependencies, otherwise in the order they were added) and, for each name, the names of the
 * components that depend on it. Immutable once built.
 */
final class Graph {

    private final List<Registration> startOrder;
    private final Map<String, List<String>> dependents;

    private Graph(List<Registration> startOrder, Map<String, List<String>> dependents) {
        this.startOrder = startOrder;
        this.dependents = dependents;
    }

    /**
     * Checks the graph and orders it.
     *
     * @throws IllegalArgumentException naming every duplicate name and unknown dependency, or, when
     *     there are none, the first dependency cycle as a path ({@code a -> b -> a})
     */
    static Graph of(List<Registration> registrations) {
        Map<String, Registration> byName = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Registration registration : registrations) {
            if (byName.putIfAbsent(registration.name(), registration) != null) {
                problems.add("duplicate component name '" + registration.name() + "'");
            }
        }
        for (Registration registration : byName.values()) {
            for (String dependency : registration.dependencies()) {
                if (!byName.containsKey(dependency)) {
                    problems.add(
                            "component '"
                                    + registration.name()
                                    + "' depends on unknown component '"
                                    + dependency
                                    + "'");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    "invalid component graph: " + String.join("; ", problems));
        }

        Sorter sorter = new Sorter(byName);
        byName.keySet().forEach(sorter::visit);

        Map<String, List<String>> dependents = new LinkedHashMap<>();
        sorter.order.forEach(r -> dependents.put(r.name(), new ArrayList<>()));
        sorter.order.forEach(r -> r.dependencies().forEach(d -> dependents.get(d).add(r.name())));
        dependents.replaceAll((name, list) -> List.copyOf(list));
        return new Graph(List.copyOf(sorter.order), Map.copyOf(dependents));
    }

    List<Registration> startOrder() {
        return startOrder;
    }

    /** The components that name {@code name} as a dependency, in start order. */
    List<String> dependentsOf(String name) {
        return dependents.get(name);
    }

    /**
     * Depth-first post-order walk, which yields a topological order and finds cycles on the way.
     */
    private static final class Sorter {
        private final Map<String, Registration> byName;
        private final List<Registration> order = new ArrayList<>();
        private final Set<String> done = new HashSet<>();
        private final List<String> path = new ArrayList<>();

        Sorter(Map<String, Registration> byName) {
            this.byName = byName;
        }

        void visit(String name) {
            if (done.contains(name)) {
                return;
            }
            int onPath = path.indexOf(name);
            if (onPath >= 0) {
                List<String> cycle = new ArrayList<>(path.subList(onPath, path.size()));
                cycle.add(name);
                throw new IllegalArgumentException(
                        "invalid component graph: dependency cycle " + String.join(" -> ", cycle));
            }
            path.add(name);
            Registration registration = byName.get(name);
            registration.dependencies().forEach(this::visit);
            path.remove(path.size() - 1);
            done.add(name);
            order.add(registration);
        }
    }
}
