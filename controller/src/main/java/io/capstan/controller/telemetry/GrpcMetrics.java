package io.capstan.controller.telemetry;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code capstan_grpc_server_handling_seconds}: every gRPC call, by service (e.g. {@code
 * etcdserverpb.KV}), method and status code, with how long it ran; for a stream, from its start to
 * its end. A call is counted once: when the server closes it (just before the client can see the
 * status), or as {@code CANCELLED} when the client cancels it first. Stateless apart from the
 * histogram; each call's flag has that call alone as owner.
 */
final class GrpcMetrics implements ServerInterceptor {
    private final Histogram calls;

    GrpcMetrics(PrometheusRegistry registry) {
        this.calls =
                Histogram.builder()
                        .name("capstan_grpc_server_handling_seconds")
                        .help(
                                "gRPC calls on the API port by service, method and status code, and their duration")
                        .labelNames("service", "method", "code")
                        .classicOnly()
                        .withoutExemplars()
                        .register(registry);
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        Observation observation = new Observation(call.getMethodDescriptor(), System.nanoTime());
        ServerCall<Q, A> observed =
                new SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        observation.end(status.getCode());
                        super.close(status, trailers);
                    }
                };
        return new SimpleForwardingServerCallListener<>(next.startCall(observed, headers)) {
            @Override
            public void onCancel() {
                observation.end(Status.Code.CANCELLED);
                super.onCancel();
            }
        };
    }

    /** One call being timed; ends once, by whichever of close and cancel comes first. */
    private final class Observation {
        private final String service;
        private final String method;
        private final long started;
        private final AtomicBoolean ended = new AtomicBoolean();

        Observation(MethodDescriptor<?, ?> descriptor, long started) {
            this.service = String.valueOf(descriptor.getServiceName());
            this.method = String.valueOf(descriptor.getBareMethodName());
            this.started = started;
        }

        void end(Status.Code code) {
            if (ended.compareAndSet(false, true)) {
                calls.labelValues(service, method, code.name())
                        .observe((System.nanoTime() - started) / 1e9);
            }
        }
    }
}
