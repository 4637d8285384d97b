package io.capstan.controller;

import java.util.concurrent.CompletableFuture;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a future, so the main thread runs an orderly lifecycle stop and the
 * process exits 0, rather than the JVM's default of dying with 143.
 */
final class StopSignals {
    private StopSignals() {}

    /** Returns a future completed with the first stop signal's name ("TERM" or "INT"). */
    static CompletableFuture<String> install() {
        CompletableFuture<String> received = new CompletableFuture<>();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> received.complete(s.getName()));
        }
        return received;
    }
}
