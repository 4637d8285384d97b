/**
 * Ratis RPC carried over Capstan's web layer: every Raft message between members, and every
 * request a {@code RaftClient} sends, is an HTTP {@code POST} on the members' web port.
 *
 * <h2>Public surface</h2>
 * {@link io.capstan.transport.PeerTransport} (create, routes, configure, faults, close),
 * {@link io.capstan.transport.TransportSettings}, {@link io.capstan.transport.PeerFaults} (tests
 * only) and {@link io.capstan.transport.WebRpcType} (public because Ratis instantiates it by class
 * name). Everything else is package-private.
 *
 * <h2>Wire</h2>
 * One path per Ratis operation under {@code /raft/v1/} ({@link io.capstan.transport.Operation}).
 * The body is the request proto's bytes (Ratis's relocated protobuf, never mixed with the
 * project's own); the answer is the reply proto's bytes, or a {@code ThrowableProto} naming the
 * exception Ratis raised (class and message only: nothing is Java-deserialised from a peer).
 * Refusals are JSON in the web layer's error shape: 401 without the cluster secret (checked in
 * constant time on headers, before the body is read or Ratis is called), 400 malformed, 413 too
 * large, 503 while no Raft server is bound (the caller's Ratis retries).
 *
 * <h2>Authentication</h2>
 * Every peer request carries the cluster secret ({@link io.capstan.transport.PeerAuthenticator}).
 * With TLS on the web port ({@code capstan.tls}), peers talk HTTPS: each member presents its own
 * certificate as its client certificate and checks that the peer's certificate chains to the
 * client CAs (else to the CAs after its own certificate in its file, else to the JVM's trust
 * store) and names the host of the peer's address. With client CAs configured the web port
 * requires client certificates, so peers authenticate each other by mutual TLS in the handshake,
 * before any request. The secret stays required even then: the client CA also vouches for
 * operators' and etcd clients' certificates, which admits them to the port but must not let them
 * send Raft messages; the secret is what only members hold. Over TLS it no longer crosses the
 * network in the clear.
 *
 * <h2>Choices</h2>
 * <ul>
 *   <li>Carriage: the JDK {@code HttpClient}, one per member, HTTP/2 over cleartext (h2c, by
 *       upgrade on the first request) or over TLS (h2, chosen by ALPN): one persistent
 *       connection per peer multiplexes every concurrent request. Each call carries Ratis's
 *       request timeout (server or client, plus the request's own) and is failed by a timer at
 *       that deadline whatever the network does.</li>
 *   <li>Log appender: Ratis's default one (one append in flight per follower, batching whatever
 *       is pending). It needs no ordering from the transport, and the figures below show
 *       throughput on par with gRPC's streaming appender; a pipelining appender was not worth
 *       its complexity.</li>
 *   <li>Ordered async client requests: HTTP/2 streams may overtake each other, so the receiving
 *       member resubmits each client's requests in their sequence order
 *       ({@link io.capstan.transport.OrderedClientRequests}), which gRPC gets from a stream.</li>
 *   <li>Sizes: one number, {@code maxMessageBytes}, bounds server-to-server bodies; Ratis's append
 *       batch and snapshot chunk are set 1 MiB below it and client bodies 4 KiB below that
 *       ({@link io.capstan.transport.TransportLimits}). Ratis's log write buffer grows to hold the
 *       largest entry: it is a direct buffer of about {@code maxMessageBytes} per member.</li>
 * </ul>
 *
 * <h2>Measured</h2>
 * {@code RoundTripBench} (test sources): three members in one JVM on loopback, on the 2-core
 * build machine while other builds ran, so differences below about 30% are noise. Web transport
 * versus Ratis's gRPC transport:
 * <pre>
 *                                         web (h2c)         gRPC
 *   group-info to a follower, p50         0.97 ms           0.87 ms
 *   100 B blocking write, p50             5.8 ms            3.9 ms
 *   100 B async writes, 10k in flight     1,500 writes/s    1,440 writes/s
 *   1 MiB blocking write, p50             65 ms             21 ms
 * </pre>
 * Large bodies are the gap: in a bare Undertow echo a 1 MiB upload takes about 10 ms over
 * either HTTP version (the web layer's body read copies byte by byte), and Undertow's default
 * 64 KiB HTTP/2 receive window adds round trips (a 4 MiB window: 11.3 → 9.0 ms). Forcing
 * HTTP/1.1 made 1 MiB writes faster (45 ms) but costs a connection per concurrent request;
 * HTTP/2 stays.
 *
 * <h2>Threading</h2>
 * Inbound requests start on Undertow I/O threads, which only check the secret and read the body;
 * decoding and the call into Ratis run on the transport's inbound executor; replies are written
 * from whichever thread completes Ratis's future. Outbound replies complete on the HTTP client's
 * executor; deadlines, fault delays and the ordered-request expiry run on one timer thread.
 * Shared state is immutable, atomic, or confined as each class's documentation states.
 */
package io.capstan.transport;
