package io.capstan.controller.telemetry;

import io.capstan.web.RequestContext;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.UUID;

/**
 * Gives every gRPC call a request id, as the web layer gives every HTTP request one: the caller's
 * {@code x-request-id} header when it is valid ({@link RequestContext#isValidId}), else a fresh
 * one. The id is sent back in the response headers and is in the SLF4J MDC (under {@link
 * RequestContext#MDC_KEY}) whenever gRPC runs the call's code: its start and every listener
 * callback, on whichever thread. Stateless.
 */
public final class GrpcRequestIds implements ServerInterceptor {
    /** The header that carries the request id in both directions. */
    public static final Metadata.Key<String> HEADER =
            Metadata.Key.of(RequestContext.HEADER, Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String offered = headers.get(HEADER);
        String id = RequestContext.isValidId(offered) ? offered : UUID.randomUUID().toString();
        RequestContext context =
                new RequestContext(
                        id, "POST", "/" + call.getMethodDescriptor().getFullMethodName());
        ServerCall<Q, A> echoing =
                new SimpleForwardingServerCall<>(call) {
                    @Override
                    public void sendHeaders(Metadata responseHeaders) {
                        responseHeaders.put(HEADER, id);
                        super.sendHeaders(responseHeaders);
                    }
                };
        ServerCall.Listener<Q> started = context.supply(() -> next.startCall(echoing, headers));
        return new SimpleForwardingServerCallListener<>(started) {
            @Override
            public void onMessage(Q message) {
                context.run(() -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                context.run(super::onHalfClose);
            }

            @Override
            public void onCancel() {
                context.run(super::onCancel);
            }

            @Override
            public void onComplete() {
                context.run(super::onComplete);
            }

            @Override
            public void onReady() {
                context.run(super::onReady);
            }
        };
    }
}
