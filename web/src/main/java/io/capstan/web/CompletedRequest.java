package io.capstan.web;

import java.util.Objects;

/**
 * One HTTP request as the web layer saw it once its response was complete (or its connection
 * ended), whatever answered it: a route's handler, or the web layer itself (404, 405, 413, 503).
 *
 * @param route the path template of the route that matched, e.g. {@code /v1/cluster/members/{id}},
 *     or {@link #UNMATCHED} when none did
 * @param owner the name of the matched route's {@link Gate} (the component serving it), or {@code
 *     web} when none matched
 * @param method the request method
 * @param path the request path, without the query string
 * @param status the response status code
 * @param bytesSent response bytes written, headers excluded
 * @param durationNanos from the moment the web layer took the request to the end of its response
 * @param requestId the request's id (see {@link RequestContext})
 * @param remote the client's address as {@code host:port}, or {@code -} when unknown
 */
public record CompletedRequest(
        String route,
        String owner,
        String method,
        String path,
        int status,
        long bytesSent,
        long durationNanos,
        String requestId,
        String remote) {

    /** The route of a request that matched none: one value, so unknown paths add no series. */
    public static final String UNMATCHED = "unmatched";

    public CompletedRequest {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(remote, "remote");
    }
}
