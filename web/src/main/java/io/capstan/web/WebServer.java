package io.capstan.web;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The Undertow web layer: admin HTTP, health, and whatever routes other modules declare
 * (Raft peer endpoints, etcd's JSON gateway). Routes are fixed at construction.
 */
public final class WebServer {

    public WebServer(WebSettings settings, List<Route> routes, Supplier<Readiness> readiness) {
        throw new UnsupportedOperationException("not built yet");
    }

    /** Binds the listener; completes once it is bound and every route is installed. */
    public CompletableFuture<InetSocketAddress> start() {
        throw new UnsupportedOperationException("not built yet");
    }

    /** Stops accepting, drains in-flight requests up to the drain timeout, closes. Idempotent. */
    public void stop() {
        throw new UnsupportedOperationException("not built yet");
    }

    /** The bound address; only valid after {@link #start()} completed. */
    public InetSocketAddress address() {
        throw new UnsupportedOperationException("not built yet");
    }
}
