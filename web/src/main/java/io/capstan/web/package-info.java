/**
 * Capstan's web layer: one Undertow listener (HTTP/1.1 and h2c, or HTTPS with h2 by ALPN) that
 * serves the admin API, health probes, Raft peer messages and etcd's JSON gateway through routes
 * declared before it starts.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.web.WebServer} (the component), {@link io.capstan.web.WebSettings}, {@link
 * io.capstan.web.Route} and {@link io.capstan.web.Gate} (what to serve and whether its owner is
 * ready), {@link io.capstan.web.Admission} (which budget admits a route's requests) with {@link
 * io.capstan.web.AdmissionBudget} and {@link io.capstan.web.AdmissionSettings} (also used by the
 * etcd gRPC API), {@link io.capstan.web.Readiness}, and the helpers handlers use: {@link
 * io.capstan.web.RequestContext}, {@link io.capstan.web.JsonResponses}, {@link
 * io.capstan.web.RequestBodies}; and {@link io.capstan.web.RequestObserver} with {@link
 * io.capstan.web.CompletedRequest}, told of every finished request (metrics). TLS: {@link
 * io.capstan.web.TlsSettings} (the member's certificate, key and client CAs, and the TLS contexts
 * its listeners, peer client and self probe use), {@link io.capstan.web.TlsIdentity} (a certificate
 * chain with its key) and {@link io.capstan.web.PemFiles} (reading them with the JDK alone), shared
 * with the peer transport, the etcd API listener and the CLI. Everything else is package-private.
 * Every request also gets one access log line, on the logger {@code capstan.access.<name of the
 * route's gate>} ({@code capstan.access.web} when no route matched).
 *
 * <h2>Threading model</h2>
 *
 * <ul>
 *   <li><b>I/O threads</b> ({@code io-threads}) accept connections, parse requests and run every
 *       handler first. Handlers must not block there: they either answer at once, read the body
 *       with {@link io.capstan.web.RequestBodies} (non-blocking), or call {@code
 *       exchange.dispatch(...)} to continue on a worker thread.
 *   <li><b>Worker threads</b> ({@code worker-threads}) run dispatched handlers. A request that
 *       waited in its admission budget's queue starts on its connection's I/O thread, as one that
 *       did not wait.
 *   <li>The <b>admission timer</b> ({@code capstan-web-admission}) refuses queued requests at their
 *       deadlines and looks for clients that left; a client's leaving is checked on its
 *       connection's I/O thread.
 *   <li>An exchange is owned by one thread at a time, handed over by Undertow's dispatch; the web
 *       layer adds no locks to the request path.
 *   <li>Shared state is immutable: settings, routes and the router are fixed before the listener
 *       binds; each request's {@link io.capstan.web.RequestContext} is created once and never
 *       changes. The shared mutable state is each admission budget's count and queue (guarded by
 *       the budget), each admitted request's state (guarded by its own monitor), and Undertow's
 *       drain counter.
 *   <li>The request id is in the SLF4J MDC ({@code requestId}) whenever the web layer runs a
 *       request's code, on whichever thread, and removed afterwards; code that continues a request
 *       on threads of its own restores it with the context's {@code run}, {@code wrap} or {@code
 *       executor}.
 *   <li>{@code WebServer.start()} and {@code stop()} may be called from any thread; their state
 *       transitions are serialised by one lock.
 * </ul>
 */
package io.capstan.web;
