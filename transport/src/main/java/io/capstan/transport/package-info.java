/**
 * Ratis RPC carried over Capstan's web layer: every Raft message between members, and every request
 * a {@code RaftClient} sends, travels on a peer channel, one WebSocket per pair of members that the
 * receiving member's web port serves.
 *
 * <h2>Public surface</h2>
 *
 * {@link io.capstan.transport.PeerTransport} (create, routes, configure, faults, close), {@link
 * io.capstan.transport.TransportSettings}, {@link io.capstan.transport.PeerFaults} (tests only) and
 * {@link io.capstan.transport.WebRpcType} (public because Ratis instantiates it by class name).
 * Everything else is package-private.
 *
 * <h2>Wire</h2>
 *
 * A member opens a channel to a peer with a WebSocket handshake on {@code GET /raft/v2/channel}
 * ({@link io.capstan.transport.PeerChannels}), and sends each request as one binary message: a
 * {@link io.capstan.transport.PeerFrame} naming the Ratis operation ({@link
 * io.capstan.transport.Operation}), with an id of the sender's choosing and the request proto's
 * bytes (Ratis's relocated protobuf, never mixed with the project's own). The peer answers on the
 * same channel with a frame carrying that id: the reply proto's bytes, or a {@code ThrowableProto}
 * naming the exception (class and message only: nothing is Java-deserialised from a peer, see
 * {@link io.capstan.transport.PeerWire}). Answers come in whatever order they are ready, so one
 * channel carries every concurrent request. Opening is refused in the web layer's JSON error shape:
 * 401 without the cluster secret (checked in constant time on headers, before anything else), 503
 * while no Raft server is bound (the caller's Ratis retries), 400 for a request that is not a
 * WebSocket handshake.
 *
 * <h2>Authentication</h2>
 *
 * Every channel opens with the cluster secret ({@link io.capstan.transport.PeerAuthenticator}).
 * With TLS on the web port ({@code capstan.tls}), channels are WebSockets over HTTPS (TLS 1.2:
 * Undertow's WebSocket client does not complete TLS 1.3 handshakes; the port serves both): each
 * member presents its own certificate as its client certificate and checks that the peer's
 * certificate chains to the client CAs (else to the CAs after its own certificate in its file, else
 * to the JVM's trust store) and names the host of the peer's address. With client CAs configured
 * the web port requires client certificates, so peers authenticate each other by mutual TLS in the
 * handshake, before any request. The secret stays required even then: the client CA also vouches
 * for operators' and etcd clients' certificates, which admits them to the port but must not let
 * them send Raft messages; the secret is what only members hold. Over TLS it no longer crosses the
 * network in the clear.
 *
 * <h2>Choices</h2>
 *
 * <ul>
 *   <li>Carriage: a WebSocket per peer, opened by Undertow's own client on one I/O thread of the
 *       transport, served by the web layer. The first version sent one HTTP/2 {@code POST} per
 *       message through the JDK {@code HttpClient}; on a 2-core machine that client completed each
 *       answer on a thread of its own (the common pool has one thread there, and {@code
 *       CompletableFuture} then starts a thread per async stage), about one thread per write. A
 *       channel has no request per message, no thread per message, and one connection per peer.
 *       Every call carries Ratis's request timeout (server or client, plus the request's own) and
 *       is failed by a timer at that deadline whatever the network does; a channel on which nothing
 *       arrived since a request that timed out was sent is closed and opened again.
 *   <li>Log appender: Ratis's default one (one append in flight per follower, batching whatever is
 *       pending). It needs no ordering from the transport.
 *   <li>Ordered async client requests: the receiver handles requests on several threads, where they
 *       may overtake each other, so it resubmits each client's requests in their sequence order
 *       ({@link io.capstan.transport.OrderedClientRequests}), which gRPC gets from a stream.
 *       Capstan's own members send their writes unordered and do not need it.
 *   <li>Sizes: one number, {@code maxMessageBytes}, bounds server-to-server messages; Ratis's
 *       append batch and snapshot chunk are set 1 MiB below it and client requests 4 KiB below that
 *       ({@link io.capstan.transport.TransportLimits}); a larger request is answered with a
 *       failure. Ratis's log write buffer grows to hold the largest entry: it is a direct buffer of
 *       about {@code maxMessageBytes} per member.
 * </ul>
 *
 * <h2>Threading</h2>
 *
 * Channels peers opened to this member receive on Undertow I/O threads, which only read frame
 * headers; decoding and the call into Ratis run on the transport's inbound executor; answers are
 * sent from whichever thread completes Ratis's future, one frame at a time per channel. Channels
 * this member opened receive on the transport's own I/O thread, which completes the callers'
 * futures. Deadlines, fault delays and the ordered-request expiry run on one timer thread. Shared
 * state is immutable, atomic, or confined as each class's documentation states.
 */
package io.capstan.transport;
