package io.capstan.controller.lifecycle;

import java.time.Duration;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A component as added to a lifecycle: its name and dependencies read once, and its timeouts
 * (already checked to be positive by the builder). Dependencies are kept sorted so that orders and
 * error messages do not depend on the iteration order of whatever set the component returned.
 */
record Registration(
        Component component,
        String name,
        Set<String> dependencies,
        Duration startTimeout,
        Duration stopTimeout) {

    Registration {
        Objects.requireNonNull(component, "component");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("component name must not be blank: " + component);
        }
        Objects.requireNonNull(dependencies, () -> "dependencies of component '" + name + "'");
        TreeSet<String> copy = new TreeSet<>();
        for (String dependency : dependencies) {
            if (dependency == null || dependency.isBlank()) {
                throw new IllegalArgumentException(
                        "component '" + name + "' has a blank dependency name");
            }
            copy.add(dependency);
        }
        dependencies = Collections.unmodifiableSortedSet(copy);
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(stopTimeout, "stopTimeout");
    }
}
