package io.capstan.controller.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class GraphValidationTest {

    private final Harness harness = new Harness();

    @AfterEach
    void close() {
        harness.close();
    }

    private String buildError() {
        return assertThrows(IllegalArgumentException.class, harness::build).getMessage();
    }

    @Test
    void unknownDependencyNamesTheComponentAndTheMissingName() {
        harness.ready("web");
        harness.ready("raft", "web", "transport");
        assertEquals(
                "invalid component graph: component 'raft' depends on unknown component 'transport'",
                buildError());
    }

    @Test
    void duplicateNamesAreRejected() {
        harness.ready("web");
        harness.ready("web");
        assertEquals("invalid component graph: duplicate component name 'web'", buildError());
    }

    @Test
    void everyDuplicateAndUnknownDependencyIsReportedAtOnce() {
        harness.ready("web");
        harness.ready("web");
        harness.ready("raft", "ghost");
        harness.ready("api", "raft", "phantom");
        assertEquals(
                "invalid component graph: duplicate component name 'web'; "
                        + "component 'raft' depends on unknown component 'ghost'; "
                        + "component 'api' depends on unknown component 'phantom'",
                buildError());
    }

    @Test
    void cycleIsReportedAsItsPath() {
        harness.ready("a", "b");
        harness.ready("b", "c");
        harness.ready("c", "a");
        assertEquals("invalid component graph: dependency cycle a -> b -> c -> a", buildError());
    }

    @Test
    void cycleReachedFromOutsideNamesOnlyTheCycle() {
        harness.ready("d", "a");
        harness.ready("a", "b");
        harness.ready("b", "a");
        assertEquals("invalid component graph: dependency cycle a -> b -> a", buildError());
    }

    @Test
    void selfDependencyIsACycle() {
        harness.ready("config");
        harness.ready("web", "config", "web");
        assertEquals("invalid component graph: dependency cycle web -> web", buildError());
    }

    @Test
    void startOrderPutsDependenciesFirstAndOtherwiseKeepsInsertionOrder() {
        harness.ready("notify", "api");
        harness.ready("api", "raft");
        harness.ready("artifacts", "raft");
        harness.ready("raft", "transport");
        harness.ready("transport", "web");
        harness.ready("web", "config");
        harness.ready("config");
        harness.ready("metrics");
        Lifecycle lifecycle = harness.build();
        assertEquals(
                List.of(
                        "config",
                        "web",
                        "transport",
                        "raft",
                        "api",
                        "notify",
                        "artifacts",
                        "metrics"),
                List.copyOf(lifecycle.states().keySet()));
    }

    @Test
    void badComponentsAndTimeoutsAreRejectedWithTheirName() {
        Component blank = new FakeComponent(harness, " ", Set.of());
        assertEquals(
                "component name must not be blank: " + blank,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Lifecycle.builder().add(blank).build())
                        .getMessage());

        Component nullDependency =
                new FakeComponent(harness, "web", new HashSet<>(Arrays.asList("config", null)));
        assertEquals(
                "component 'web' has a blank dependency name",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Lifecycle.builder().add(nullDependency).build())
                        .getMessage());

        Component web = new FakeComponent(harness, "web", Set.of());
        assertEquals(
                "start timeout must be positive, got PT0S",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        Lifecycle.builder()
                                                .add(web, Duration.ZERO, Duration.ofSeconds(1)))
                        .getMessage());
        assertEquals(
                "default stop timeout must be positive, got PT-1S",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        Lifecycle.builder()
                                                .defaultTimeouts(
                                                        Duration.ofSeconds(1),
                                                        Duration.ofSeconds(-1)))
                        .getMessage());
    }
}
