package io.capstan.controller.bench;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.AuthEnableRequest;
import io.capstan.etcd.api.AuthGrpc;
import io.capstan.etcd.api.AuthRoleAddRequest;
import io.capstan.etcd.api.AuthRoleGrantPermissionRequest;
import io.capstan.etcd.api.AuthUserAddRequest;
import io.capstan.etcd.api.AuthUserGrantRoleRequest;
import io.capstan.etcd.api.AuthenticateRequest;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.LeaseRevokeRequest;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.auth.Permission;
import io.capstan.etcd.api.lock.LockGrpc;
import io.capstan.etcd.api.lock.LockRequest;
import io.capstan.etcd.api.lock.UnlockRequest;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Clients of a benchmark cluster's etcd v3 gRPC API, built on the project's generated stubs. Each
 * client has its own plaintext connection to the API port of the member that led when the cluster
 * formed, as separate client processes would; every call carries a deadline of the call timeout.
 *
 * <p>With auth, {@link #connect} first does what an operator does before {@code etcdctl auth
 * enable}: adds {@code root} with the {@code root} role, a role granted READWRITE on every key
 * under {@value #PREFIX} (all the benchmark's keys and lock names), and a user holding that role;
 * then enables auth. Each client authenticates once as that user when it opens, sends the token in
 * the gRPC metadata key {@code token}, and authenticates again when a call is refused as
 * unauthenticated (an expired token), as etcd's clients do. An Authenticate refused by the server's
 * login rate limit is retried after a pause until the call timeout. The passwords are random and
 * live only in memory.
 *
 * <p>Threads: immutable. {@link #connect} and the clients' opening and closing run on the
 * benchmark's thread; each client is used by one client loop at a time, which owns its token.
 * Nothing stays open between runs: each client closes its own connection.
 */
final class BenchApi {
    static final String PREFIX = "bench/";

    /** The first key after every key under {@link #PREFIX}. */
    private static final String PREFIX_END = "bench0";

    private static final String ROOT = "root";
    private static final String USER = "bench";
    private static final String ROLE = "bench";
    private static final Metadata.Key<String> TOKEN =
            Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);
    private static final Duration LOGIN_RETRY_PAUSE = Duration.ofMillis(200);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final InetSocketAddress address;
    private final Duration callTimeout;

    /** The benchmark user's password; null when auth is off. */
    private final String password;

    private BenchApi(InetSocketAddress address, Duration callTimeout, String password) {
        this.address = address;
        this.callTimeout = callTimeout;
        this.password = password;
    }

    /**
     * Connects to the API at {@code address}; with {@code auth}, first creates the users and role
     * and enables auth on the cluster, which then stays on.
     *
     * @throws BenchLoad.SetupException when enabling auth failed
     */
    static BenchApi connect(
            InetSocketAddress address, boolean auth, Duration callTimeout, SecureRandom random)
            throws BenchLoad.SetupException {
        if (!auth) {
            return new BenchApi(address, callTimeout, null);
        }
        BenchApi api = new BenchApi(address, callTimeout, randomPassword(random));
        ManagedChannel channel = api.channel();
        try {
            api.enableAuth(channel, randomPassword(random));
        } catch (StatusRuntimeException e) {
            throw new BenchLoad.SetupException(
                    "enabling etcd auth at " + address + " failed: " + e.getStatus(), e);
        } finally {
            close(channel);
        }
        return api;
    }

    /**
     * Clients that put keys no other put uses, {@code <keyPrefix><client>/<sequence>}, each with
     * {@code value}.
     */
    BenchLoad.Clients puts(String keyPrefix, ByteString value) {
        return index -> {
            Connection connection = new Connection();
            return new BenchLoad.Client() {
                @Override
                public void perform(long sequence) {
                    PutRequest put =
                            PutRequest.newBuilder()
                                    .setKey(
                                            ByteString.copyFromUtf8(
                                                    keyPrefix + index + "/" + sequence))
                                    .setValue(value)
                                    .build();
                    connection.call(
                            channel ->
                                    KVGrpc.newBlockingStub(channel)
                                            .withDeadlineAfter(
                                                    callTimeout.toNanos(), TimeUnit.NANOSECONDS)
                                            .put(put));
                }

                @Override
                public void close() {
                    connection.close();
                }
            };
        };
    }

    private long grantLease(Connection connection, Duration ttl) {
        LeaseGrantRequest grant = LeaseGrantRequest.newBuilder().setTTL(ttl.toSeconds()).build();
        return connection
                .call(
                        channel ->
                                LeaseGrpc.newBlockingStub(channel)
                                        .withDeadlineAfter(
                                                callTimeout.toNanos(), TimeUnit.NANOSECONDS)
                                        .leaseGrant(grant))
                .getID();
    }

    /**
     * Clients that all contend for the lock {@code name}: each holds a lease of {@code leaseTtl}
     * (granted when it opens, revoked when it closes, so it must outlast the run), and one
     * operation is a cycle of Lock with that lease, then Unlock of the key it returned.
     */
    BenchLoad.Clients locks(String name, Duration leaseTtl) {
        ByteString lockName = ByteString.copyFromUtf8(name);
        return index -> {
            Connection connection = new Connection();
            long lease;
            try {
                lease = grantLease(connection, leaseTtl);
            } catch (RuntimeException e) {
                connection.close();
                throw e;
            }
            return new BenchLoad.Client() {
                @Override
                public void perform(long sequence) {
                    ByteString key =
                            connection
                                    .call(
                                            channel ->
                                                    LockGrpc.newBlockingStub(channel)
                                                            .withDeadlineAfter(
                                                                    callTimeout.toNanos(),
                                                                    TimeUnit.NANOSECONDS)
                                                            .lock(
                                                                    LockRequest.newBuilder()
                                                                            .setName(lockName)
                                                                            .setLease(lease)
                                                                            .build()))
                                    .getKey();
                    connection.call(
                            channel ->
                                    LockGrpc.newBlockingStub(channel)
                                            .withDeadlineAfter(
                                                    callTimeout.toNanos(), TimeUnit.NANOSECONDS)
                                            .unlock(
                                                    UnlockRequest.newBuilder()
                                                            .setKey(key)
                                                            .build()));
                }

                @Override
                public void close() {
                    try {
                        connection.call(
                                channel ->
                                        LeaseGrpc.newBlockingStub(channel)
                                                .withDeadlineAfter(
                                                        callTimeout.toNanos(), TimeUnit.NANOSECONDS)
                                                .leaseRevoke(
                                                        LeaseRevokeRequest.newBuilder()
                                                                .setID(lease)
                                                                .build()));
                    } finally {
                        connection.close();
                    }
                }
            };
        };
    }

    /** Root with the root role, the benchmark role on the prefix, its user; then auth on. */
    private void enableAuth(ManagedChannel channel, String rootPassword) {
        AuthGrpc.AuthBlockingStub auth = AuthGrpc.newBlockingStub(channel);
        timed(auth)
                .userAdd(
                        AuthUserAddRequest.newBuilder()
                                .setName(ROOT)
                                .setPassword(rootPassword)
                                .build());
        timed(auth)
                .userGrantRole(
                        AuthUserGrantRoleRequest.newBuilder().setUser(ROOT).setRole(ROOT).build());
        timed(auth).roleAdd(AuthRoleAddRequest.newBuilder().setName(ROLE).build());
        timed(auth)
                .roleGrantPermission(
                        AuthRoleGrantPermissionRequest.newBuilder()
                                .setName(ROLE)
                                .setPerm(
                                        Permission.newBuilder()
                                                .setPermType(Permission.Type.READWRITE)
                                                .setKey(ByteString.copyFromUtf8(PREFIX))
                                                .setRangeEnd(ByteString.copyFromUtf8(PREFIX_END)))
                                .build());
        timed(auth)
                .userAdd(
                        AuthUserAddRequest.newBuilder()
                                .setName(USER)
                                .setPassword(password)
                                .build());
        timed(auth)
                .userGrantRole(
                        AuthUserGrantRoleRequest.newBuilder().setUser(USER).setRole(ROLE).build());
        timed(auth).authEnable(AuthEnableRequest.getDefaultInstance());
    }

    private AuthGrpc.AuthBlockingStub timed(AuthGrpc.AuthBlockingStub stub) {
        return stub.withDeadlineAfter(callTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private ManagedChannel channel() {
        return NettyChannelBuilder.forAddress(address).usePlaintext().build();
    }

    private static void close(ManagedChannel channel) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String randomPassword(SecureRandom random) {
        byte[] bytes = new byte[18];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * One client's connection; with auth, the channel its calls go through carries the client's
     * token, and is replaced when the client authenticates again. Owned by the thread that uses the
     * client.
     */
    private final class Connection {
        private final ManagedChannel channel = channel();
        private Channel calls;

        /**
         * Connects (lazily, as gRPC does) and, with auth, authenticates; closes again if that
         * fails.
         */
        Connection() {
            try {
                authenticate();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /**
         * Makes {@code call} on this connection; authenticates again once if the token was refused.
         */
        <T> T call(Function<Channel, T> call) {
            try {
                return call.apply(calls);
            } catch (StatusRuntimeException e) {
                if (password == null || e.getStatus().getCode() != Status.Code.UNAUTHENTICATED) {
                    throw e;
                }
                authenticate();
                return call.apply(calls);
            }
        }

        void close() {
            BenchApi.close(channel);
        }

        private void authenticate() {
            if (password == null) {
                calls = channel;
                return;
            }
            AuthenticateRequest login =
                    AuthenticateRequest.newBuilder().setName(USER).setPassword(password).build();
            long deadline = System.nanoTime() + callTimeout.toNanos();
            while (true) {
                try {
                    String token =
                            timed(AuthGrpc.newBlockingStub(channel)).authenticate(login).getToken();
                    Metadata headers = new Metadata();
                    headers.put(TOKEN, token);
                    calls =
                            ClientInterceptors.intercept(
                                    channel, MetadataUtils.newAttachHeadersInterceptor(headers));
                    return;
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED
                            || System.nanoTime() + LOGIN_RETRY_PAUSE.toNanos() - deadline > 0) {
                        throw e;
                    }
                }
                pause();
            }
        }

        /** The pause between logins refused by the server's rate limit. */
        private void pause() {
            try {
                TimeUnit.NANOSECONDS.sleep(LOGIN_RETRY_PAUSE.toNanos());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED
                        .withDescription("interrupted while waiting to log in again")
                        .asRuntimeException();
            }
        }
    }
}
