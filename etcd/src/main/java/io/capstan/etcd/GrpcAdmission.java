package io.capstan.etcd;

import io.capstan.etcd.api.election.ElectionGrpc;
import io.capstan.etcd.api.lock.LockGrpc;
import io.capstan.web.AdmissionBudget;
import io.capstan.web.AdmissionSettings;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.MDC;

/**
 * Admission of the etcd gRPC API's calls, as the web layer admits its requests (see {@link
 * AdmissionBudget}): a call with a permit starts at once; one that finds every permit taken waits,
 * not started, in its budget's queue (its messages stay in gRPC's buffers); a full queue, or a wait
 * past the budget's deadline, ends it with {@code RESOURCE_EXHAUSTED} {@code etcdserver: too many
 * requests}, as etcd refuses under load.
 *
 * <p>Two budgets. Calls that answer once (Range, Put, Txn, ...) share {@value #UNARY}; each holds
 * its permit until it completes or is cancelled (client gone, deadline passed, server stopping), so
 * a permit comes back on every path. Calls that stay open for as long as their client likes (Watch,
 * LeaseKeepAlive, Observe, Snapshot) and those that wait for their turn (Lock, Campaign) share
 * {@value #STREAMS}, so that however many are open they never take the places of the first kind.
 *
 * <p>Raft is not starved by this API's load: calls run on the API executor, which Ratis only ever
 * hands a completed future to (never waits on), and Raft's own messages travel on the peer
 * transport's threads and the web port, whose peer routes no client budget admits.
 *
 * <p>Threading: {@link #interceptCall} runs on the API executor; a waiting call is started by
 * whichever thread frees a permit, inside the call's gRPC context and with its log context. Each
 * call's state is guarded by its own monitor; the budgets' deadlines run on one timer thread
 * ({@code capstan-api-admission}) owned here.
 */
public final class GrpcAdmission implements ServerInterceptor {

    /** The budget of calls that answer once: {@code capstan.api.admission.grpc}. */
    public static final String UNARY = "grpc";

    /** The budget of calls that stay open: {@code capstan.api.admission.grpc-streams}. */
    public static final String STREAMS = "grpc-streams";

    /** Unary calls that wait for their turn as long as it takes. */
    private static final Set<String> WAITING_CALLS =
            Set.of(
                    LockGrpc.getLockMethod().getFullMethodName(),
                    ElectionGrpc.getCampaignMethod().getFullMethodName());

    private final AdmissionBudget unary;
    private final AdmissionBudget streams;
    private final ScheduledThreadPoolExecutor timer;

    public GrpcAdmission(AdmissionSettings unarySettings, AdmissionSettings streamSettings) {
        this.timer =
                new ScheduledThreadPoolExecutor(
                        1,
                        task -> {
                            Thread thread = new Thread(task, "capstan-api-admission");
                            thread.setDaemon(true);
                            return thread;
                        });
        AdmissionBudget.Timer schedule =
                (delay, task) -> timer.schedule(task, delay, TimeUnit.NANOSECONDS);
        this.unary = new AdmissionBudget(UNARY, unarySettings, schedule, System::nanoTime);
        this.streams = new AdmissionBudget(STREAMS, streamSettings, schedule, System::nanoTime);
    }

    /** Both budgets, for metrics. */
    public List<AdmissionBudget> budgets() {
        return List.of(unary, streams);
    }

    /**
     * Ends every waiting call with {@code UNAVAILABLE} {@code etcdserver: server stopped}, as every
     * later one, and stops the timer. Calls already started keep their permits until they end.
     * Idempotent.
     */
    public void close() {
        unary.close();
        streams.close();
        timer.shutdownNow();
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        MethodDescriptor<Q, A> method = call.getMethodDescriptor();
        boolean staysOpen =
                method.getType() != MethodDescriptor.MethodType.UNARY
                        || WAITING_CALLS.contains(method.getFullMethodName());
        PendingCall<Q, A> pending = new PendingCall<>(call, headers, next);
        pending.entered((staysOpen ? streams : unary).enter(pending));
        return pending;
    }

    /**
     * One call from its arrival to its end: until it is admitted, the listener events gRPC delivers
     * are kept in order, then replayed to the started call.
     */
    private static final class PendingCall<Q, A> extends ServerCall.Listener<Q>
            implements AdmissionBudget.Waiter {
        private final ServerCall<Q, A> call;
        private final Metadata headers;
        private final ServerCallHandler<Q, A> next;
        private final Context context = Context.current();
        private final Map<String, String> logContext = MDC.getCopyOfContextMap();

        // Guarded by this.
        private AdmissionBudget.Ticket ticket;
        private ServerCall.Listener<Q> started;
        private List<Consumer<ServerCall.Listener<Q>>> early = new ArrayList<>();

        /** Cancelled or completed: gRPC is done with the call. */
        private boolean ended;

        PendingCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            this.call = call;
            this.headers = headers;
            this.next = next;
        }

        synchronized void entered(AdmissionBudget.Ticket entered) {
            ticket = entered;
        }

        @Override
        public void admitted(AdmissionBudget.Ticket admitted) {
            synchronized (this) {
                ticket = admitted;
                if (!ended) {
                    List<Consumer<ServerCall.Listener<Q>>> replay = early;
                    early = null;
                    // Events gRPC delivers meanwhile wait on this monitor, so they follow the
                    // replay.
                    inCallContext(() -> start(replay));
                    return;
                }
            }
            // The call ended while the permit was on its way.
            admitted.release();
        }

        /**
         * Starts the call and replays what came before; what gRPC would do on its own thread,
         * failures included.
         */
        private void start(List<Consumer<ServerCall.Listener<Q>>> replay) {
            try {
                started = next.startCall(call, headers);
                replay.forEach(event -> event.accept(started));
            } catch (RuntimeException e) {
                call.close(Status.fromThrowable(e), new Metadata());
            }
        }

        @Override
        public void refused(AdmissionBudget.Ticket refused, AdmissionBudget.Refusal refusal) {
            synchronized (this) {
                ticket = refused;
                early = null;
                if (ended) {
                    return;
                }
            }
            EtcdError error =
                    refusal == AdmissionBudget.Refusal.STOPPED
                            ? EtcdErrors.STOPPED
                            : EtcdErrors.TOO_MANY_REQUESTS;
            inCallContext(() -> call.close(error.toStatus(), new Metadata()));
        }

        private void inCallContext(Runnable task) {
            context.run(RaftCalls.inLogContext(logContext, task));
        }

        @Override
        public void onMessage(Q message) {
            deliver(listener -> listener.onMessage(message));
        }

        @Override
        public void onHalfClose() {
            deliver(ServerCall.Listener::onHalfClose);
        }

        @Override
        public void onReady() {
            deliver(ServerCall.Listener::onReady);
        }

        @Override
        public void onCancel() {
            end(ServerCall.Listener::onCancel);
        }

        @Override
        public void onComplete() {
            end(ServerCall.Listener::onComplete);
        }

        private void deliver(Consumer<ServerCall.Listener<Q>> event) {
            ServerCall.Listener<Q> listener;
            synchronized (this) {
                if (started == null) {
                    if (early != null) {
                        early.add(event);
                    }
                    return;
                }
                listener = started;
            }
            event.accept(listener);
        }

        /** gRPC is done with the call: the permit, or the place in the queue, comes back. */
        private void end(Consumer<ServerCall.Listener<Q>> event) {
            AdmissionBudget.Ticket held;
            ServerCall.Listener<Q> listener;
            synchronized (this) {
                ended = true;
                held = ticket;
                listener = started;
            }
            if (held != null) {
                held.release();
            }
            if (listener != null) {
                event.accept(listener);
            }
        }
    }
}
