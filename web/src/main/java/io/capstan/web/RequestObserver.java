package io.capstan.web;

/**
 * Told of every request the web layer took, once its response is complete (metrics). Called once
 * per request, on whichever thread finished the exchange (an I/O or a worker thread), with the
 * request's id in the MDC; it must be cheap, must not block, and may be called by many threads at
 * once. What it throws is logged and otherwise ignored.
 */
@FunctionalInterface
public interface RequestObserver {
    /** Observes nothing. */
    RequestObserver NONE = request -> {};

    void completed(CompletedRequest request);
}
