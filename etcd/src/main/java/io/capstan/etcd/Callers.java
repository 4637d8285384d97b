package io.capstan.etcd;

import io.capstan.raft.AuthState;
import io.capstan.raft.proto.Caller;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Supplier;

/**
 * Who is calling: the token a request carries (gRPC metadata {@code token}, or the gateway's {@code
 * Authorization} header, as etcd reads them) turned into the {@link Caller} that rides in the gRPC
 * {@link Context} through the call and is stamped on every command and query it makes ({@link
 * RaftCalls}), where the auth state decides. A request without a token is anonymous; with auth on,
 * a token that does not verify (bad signature, expired, another cluster's) is refused at once with
 * {@code etcdserver: invalid auth token}, so the client authenticates again. Work that lost the
 * context is anonymous too: it fails closed. Immutable.
 */
final class Callers {
    private static final Context.Key<Caller> CALLER = Context.key("capstan-caller");
    private static final Context.Key<String> REMOTE = Context.key("capstan-remote-address");
    private static final Metadata.Key<String> TOKEN =
            Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);
    private static final AttachmentKey<Context> GATEWAY_CONTEXT =
            AttachmentKey.create(Context.class);
    private static final String AUTHENTICATE = "etcdserverpb.Auth/Authenticate";
    private static final String BEARER = "Bearer ";

    private final Supplier<AuthState> auth;
    private final AuthTokens tokens;

    /**
     * @param auth this member's applied auth state
     */
    Callers(Supplier<AuthState> auth, AuthTokens tokens) {
        this.auth = auth;
        this.tokens = tokens;
    }

    /** The caller of the running request; anonymous outside of one. */
    static Caller current() {
        Caller caller = CALLER.get();
        return caller == null ? Caller.getDefaultInstance() : caller;
    }

    /** The client address (without port) of the running request; empty when unknown. */
    static String remoteAddress() {
        String address = REMOTE.get();
        return address == null ? "" : address;
    }

    private static String hostOf(SocketAddress address) {
        return address instanceof InetSocketAddress inet
                ? inet.getAddress() == null
                        ? inet.getHostString()
                        : inet.getAddress().getHostAddress()
                : String.valueOf(address);
    }

    /**
     * The caller a token names.
     *
     * @param token null or empty for none
     * @throws EtcdException with auth on and a token that does not verify
     */
    Caller resolve(String token) {
        AuthState state = auth.get();
        if (!state.enabled() || token == null || token.isEmpty()) {
            return Caller.getDefaultInstance();
        }
        return tokens.verify(token, state.tokenKey())
                .orElseThrow(EtcdErrors.INVALID_AUTH_TOKEN::toException);
    }

    /** Resolves each gRPC call's token into its context; Authenticate itself takes none. */
    ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                Context context =
                        Context.current()
                                .withValue(
                                        REMOTE,
                                        hostOf(
                                                call.getAttributes()
                                                        .get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
                if (!AUTHENTICATE.equals(call.getMethodDescriptor().getFullMethodName())) {
                    try {
                        context = context.withValue(CALLER, resolve(headers.get(TOKEN)));
                    } catch (EtcdException e) {
                        call.close(
                                Status.fromCode(e.error().code())
                                        .withDescription(e.error().message()),
                                new Metadata());
                        return new ServerCall.Listener<>() {};
                    }
                }
                return Contexts.interceptCall(context, call, headers, next);
            }
        };
    }

    /**
     * Resolves a gateway request's {@code Authorization} header (the token as is, or after {@code
     * Bearer }; ignored unless {@code takesToken}, false for Authenticate) before {@code next}
     * runs; {@link #contextOf} gives the API executor the result.
     */
    HttpHandler gatewayFilter(HttpHandler next, boolean takesToken) {
        return exchange -> {
            String header =
                    takesToken
                            ? exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION)
                            : null;
            String token =
                    header != null && header.startsWith(BEARER)
                            ? header.substring(BEARER.length())
                            : header;
            Caller caller;
            try {
                caller = resolve(token == null ? null : token.trim());
            } catch (EtcdException e) {
                GatewayHandler.fail(exchange, e.error());
                return;
            }
            exchange.putAttachment(
                    GATEWAY_CONTEXT,
                    Context.current()
                            .withValue(CALLER, caller)
                            .withValue(REMOTE, hostOf(exchange.getSourceAddress())));
            next.handleRequest(exchange);
        };
    }

    /** The context of a gateway request that passed {@link #gatewayFilter}; anonymous otherwise. */
    static Context contextOf(HttpServerExchange exchange) {
        Context context = exchange.getAttachment(GATEWAY_CONTEXT);
        return context == null ? Context.ROOT : context;
    }
}
