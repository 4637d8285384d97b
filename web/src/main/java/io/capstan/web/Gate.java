package io.capstan.web;

/**
 * Whether the component that owns a route can serve right now. A route whose gate is closed answers
 * 503 with Retry-After, so routes can be declared before their owners start. Implementations must
 * be cheap and thread-safe: the web layer asks on every request.
 */
public interface Gate {
    /** The owning component's name, used in the 503 body. */
    String name();

    boolean isOpen();

    /** A gate that is always open, for routes the web layer itself serves. */
    static Gate open(String name) {
        return new Gate() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean isOpen() {
                return true;
            }
        };
    }
}
