package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.controller.lifecycle.ComponentState;
import io.capstan.controller.lifecycle.Lifecycle;
import io.capstan.web.Readiness;
import io.capstan.web.Route;
import io.capstan.web.WebServer;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The daemon's wiring: builds every component from the bound settings, declares the routes
 * before the web layer starts, and arranges the components in the lifecycle graph
 * (see DESIGN.md, Lifecycle). Start and stop are the lifecycle's.
 *
 * <p>Thread safety: everything here is fixed at construction; the lifecycle owns the states.
 */
final class Daemon {
    static final String WEB = "web";

    private final WebServer web;
    private final Lifecycle lifecycle;

    private Daemon(Settings settings) {
        List<Route> routes = List.of();
        // /health/ready is only probed once the listener is bound, after the constructor returned.
        this.web = new WebServer(settings.web(), routes, this::readiness);
        this.lifecycle = Lifecycle.builder()
                .defaultTimeouts(settings.lifecycle().startTimeout(), settings.lifecycle().stopTimeout())
                .add(new ComponentAdapter(WEB, Set.of(), web::start, web::stop))
                .build();
    }

    static Daemon create(Settings settings) {
        return new Daemon(settings);
    }

    CompletableFuture<Void> start() {
        return lifecycle.start();
    }

    CompletableFuture<Void> stop() {
        return lifecycle.stop();
    }

    InetSocketAddress webAddress() {
        return web.address();
    }

    /** Ready when every component is RUNNING; the body lists each component's state. */
    private Readiness readiness() {
        Map<String, ComponentState> states = lifecycle.states();
        Map<String, Object> components = new LinkedHashMap<>();
        states.forEach((name, state) -> components.put(name, state.name()));
        boolean ready = lifecycle.isRunning();
        return new Readiness(ready, Map.of(
                "status", ready ? "ready" : "not_ready",
                "components", components));
    }
}
