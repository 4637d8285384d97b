package io.capstan.web;

import io.undertow.server.HttpHandler;
import java.util.Objects;

/**
 * One HTTP route, declared before the web layer starts and never changed afterwards.
 *
 * @param method HTTP method, upper case ("GET", "POST", ...)
 * @param path an Undertow path template, e.g. {@code /v1/cluster/members/{id}}
 * @param owner gate of the component serving the route; closed means 503
 * @param maxBodyBytes request bodies larger than this are refused with 413: before they are read
 *     when they declare a length, else when reading passes the limit; 0 means the web layer's
 *     configured default
 * @param admission the budget the route's requests are admitted through (see {@link Admission})
 * @param handler the Undertow handler; it runs on an I/O thread (also when the request waited for a
 *     place in its budget) and must dispatch before blocking. Path parameters are in {@code
 *     exchange.getPathParameters()}.
 */
public record Route(
        String method,
        String path,
        Gate owner,
        long maxBodyBytes,
        Admission admission,
        HttpHandler handler) {
    public Route {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(admission, "admission");
        Objects.requireNonNull(handler, "handler");
        if (!method.matches("[A-Z]+")) {
            throw new IllegalArgumentException(
                    "route method must be an upper-case HTTP method: " + method);
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("route path must start with '/': " + path);
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 0: " + maxBodyBytes);
        }
    }

    public static Route get(String path, Gate owner, Admission admission, HttpHandler handler) {
        return new Route("GET", path, owner, 0, admission, handler);
    }

    public static Route post(String path, Gate owner, Admission admission, HttpHandler handler) {
        return new Route("POST", path, owner, 0, admission, handler);
    }

    /** This route with {@code replacement} as its handler. */
    public Route withHandler(HttpHandler replacement) {
        return new Route(method, path, owner, maxBodyBytes, admission, replacement);
    }
}
