package io.capstan.etcd;

import static io.capstan.etcd.ApiErrorsTest.assertStatus;
import static io.capstan.etcd.KvApiTest.bytes;
import static io.capstan.etcd.KvApiTest.get;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.etcd.api.AuthEnableRequest;
import io.capstan.etcd.api.AuthGrpc;
import io.capstan.etcd.api.AuthRoleAddRequest;
import io.capstan.etcd.api.AuthRoleGetRequest;
import io.capstan.etcd.api.AuthRoleGrantPermissionRequest;
import io.capstan.etcd.api.AuthRoleListRequest;
import io.capstan.etcd.api.AuthRoleRevokePermissionRequest;
import io.capstan.etcd.api.AuthUserAddRequest;
import io.capstan.etcd.api.AuthUserGrantRoleRequest;
import io.capstan.etcd.api.AuthUserRevokeRoleRequest;
import io.capstan.etcd.api.AuthenticateRequest;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.WatchCreateRequest;
import io.capstan.etcd.api.WatchGrpc;
import io.capstan.etcd.api.WatchRequest;
import io.capstan.etcd.api.WatchResponse;
import io.capstan.etcd.api.auth.Permission;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.auth.Permission.Type;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's Auth on the in-JVM three-member cluster, through jetcd's Auth, KV and Watch clients and
 * raw gRPC stubs (for exact codes and texts). The tests share one cluster and run in order: the
 * first checks the refusals before auth is on, then enables it; the others run with auth on.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@ExtendWith(EtcdClusterExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuthApiTest {
    private static final String ROOT_PASSWORD = "root-secret";
    private static final String APP_PASSWORD = "app-secret";
    private static final HttpClient HTTP =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();

    private static AuthGrpc.AuthBlockingStub auth(EtcdCluster cluster, int member) {
        return AuthGrpc.newBlockingStub(cluster.channel(member))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static KVGrpc.KVBlockingStub kv(EtcdCluster cluster, int member, String token) {
        KVGrpc.KVBlockingStub stub = KVGrpc.newBlockingStub(cluster.channel(member));
        if (token != null) {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), token);
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static String token(EtcdCluster cluster, int member, String user, String password) {
        return auth(cluster, member)
                .authenticate(
                        AuthenticateRequest.newBuilder()
                                .setName(user)
                                .setPassword(password)
                                .build())
                .getToken();
    }

    private static PutRequest put(String key, String value) {
        return PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFromUtf8(value))
                .build();
    }

    private static RangeRequest range(String key) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build();
    }

    private static Client jetcdAs(EtcdCluster cluster, int member, String user, String password) {
        return Client.builder()
                .endpoints(cluster.endpoint(member))
                .user(bytes(user))
                .password(bytes(password))
                .build();
    }

    private static ByteSequence prefixEnd(String prefix) {
        byte[] end = prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        end[end.length - 1]++;
        return ByteSequence.from(end);
    }

    @Test
    @Order(1)
    void enablingNeedsARootUserWithTheRootRoleAndRefusalsAreEtcds(EtcdCluster cluster)
            throws Exception {
        int member = cluster.follower();
        AuthGrpc.AuthBlockingStub stub = auth(cluster, member);
        Auth admin = cluster.jetcd(member).getAuthClient();

        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: authentication is not enabled",
                () ->
                        stub.authenticate(
                                AuthenticateRequest.newBuilder()
                                        .setName("root")
                                        .setPassword("x")
                                        .build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: root user does not exist",
                () -> stub.authEnable(AuthEnableRequest.getDefaultInstance()));
        get(admin.userAdd(bytes("root"), bytes(ROOT_PASSWORD)));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: root user does not have root role",
                () -> stub.authEnable(AuthEnableRequest.getDefaultInstance()));
        // As in etcd, the root role may be granted before it was added; until then it is not
        // listed.
        get(admin.userGrantRole(bytes("root"), bytes("root")));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: role name not found",
                () -> stub.roleGet(AuthRoleGetRequest.newBuilder().setRole("root").build()));

        get(admin.roleAdd(bytes("app")));
        get(
                admin.roleGrantPermission(
                        bytes("app"), bytes("app/"), prefixEnd("app/"), Type.READWRITE));
        get(admin.userAdd(bytes("app"), bytes(APP_PASSWORD)));
        get(admin.userGrantRole(bytes("app"), bytes("app")));
        assertEquals(
                List.of("app"),
                auth(cluster, member)
                        .roleList(AuthRoleListRequest.getDefaultInstance())
                        .getRolesList());
        // Once added, it exists: listed, read, not added twice, given permissions like any role.
        get(admin.roleAdd(bytes("root")));
        assertEquals(List.of("app", "root"), get(admin.roleList()).getRoles());
        assertEquals(List.of(), get(admin.roleGet(bytes("root"))).getPermissions());
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: role name already exists",
                () -> stub.roleAdd(AuthRoleAddRequest.newBuilder().setName("root").build()));
        get(admin.roleGrantPermission(bytes("root"), bytes("r/"), prefixEnd("r/"), Type.READ));
        assertEquals(1, get(admin.roleGet(bytes("root"))).getPermissions().size());
        get(admin.roleRevokePermission(bytes("root"), bytes("r/"), prefixEnd("r/")));
        assertEquals(List.of(), get(admin.roleGet(bytes("root"))).getPermissions());
        assertEquals(List.of("app"), get(admin.userGet(bytes("app"))).getRoles());

        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: user name is empty",
                () ->
                        stub.userAdd(
                                AuthUserAddRequest.newBuilder()
                                        .setName("")
                                        .setPassword("p")
                                        .build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: user name already exists",
                () ->
                        stub.userAdd(
                                AuthUserAddRequest.newBuilder()
                                        .setName("app")
                                        .setPassword("p")
                                        .build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: role name already exists",
                () -> stub.roleAdd(AuthRoleAddRequest.newBuilder().setName("app").build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: user name not found",
                () ->
                        stub.userGrantRole(
                                AuthUserGrantRoleRequest.newBuilder()
                                        .setUser("ghost")
                                        .setRole("app")
                                        .build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: role name not found",
                () ->
                        stub.userGrantRole(
                                AuthUserGrantRoleRequest.newBuilder()
                                        .setUser("app")
                                        .setRole("ghost")
                                        .build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: role is not granted to the user",
                () ->
                        stub.userRevokeRole(
                                AuthUserRevokeRoleRequest.newBuilder()
                                        .setName("root")
                                        .setRole("app")
                                        .build()));
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "etcdserver: permission is not granted to the role",
                () ->
                        stub.roleRevokePermission(
                                AuthRoleRevokePermissionRequest.newBuilder()
                                        .setRole("app")
                                        .setKey(ByteString.copyFromUtf8("nothing"))
                                        .build()));

        get(admin.authEnable());
        await().atMost(EtcdCluster.WAIT)
                .until(
                        () ->
                                cluster.node(0).auth().enabled()
                                        && cluster.node(1).auth().enabled()
                                        && cluster.node(2).auth().enabled());
        // Now a password is checked, and administration needs a root token.
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: authentication failed, invalid user ID or password",
                () ->
                        stub.authenticate(
                                AuthenticateRequest.newBuilder()
                                        .setName("app")
                                        .setPassword("wrong")
                                        .build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: authentication failed, invalid user ID or password",
                () ->
                        stub.authenticate(
                                AuthenticateRequest.newBuilder()
                                        .setName("ghost")
                                        .setPassword("x")
                                        .build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: user name is empty",
                () -> stub.roleAdd(AuthRoleAddRequest.newBuilder().setName("more").build()));
    }

    @Test
    @Order(2)
    void permittedAndDeniedPutGetAndWatchThroughJetcd(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        try (Client app = jetcdAs(cluster, member, "app", APP_PASSWORD)) {
            get(app.getKVClient().put(bytes("app/x"), bytes("1")));
            assertEquals(
                    "1",
                    KvApiTest.text(
                            get(app.getKVClient().get(bytes("app/x"))).getKvs().get(0).getValue()));
            assertDenied(() -> get(app.getKVClient().put(bytes("other"), bytes("1"))));
            assertDenied(() -> get(app.getKVClient().get(bytes("other"))));

            // A permitted watch sees the writes; a denied one is created and then canceled.
            BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
            CompletableFuture<Void> created = new CompletableFuture<>();
            try (Watch.Watcher watcher =
                    app.getWatchClient()
                            .watch(
                                    bytes("app/w"),
                                    WatchApiTest.notified().build(),
                                    response -> {
                                        if (response.isCreatedNotify()) {
                                            created.complete(null);
                                        }
                                        events.addAll(response.getEvents());
                                    })) {
                // The put comes after the watch is in place, or the watch may start after it.
                created.get(30, TimeUnit.SECONDS);
                get(app.getKVClient().put(bytes("app/w"), bytes("seen")));
                WatchEvent event = events.poll(30, TimeUnit.SECONDS);
                assertEquals("seen", KvApiTest.text(event.getKeyValue().getValue()));
            }
        }
        String token = token(cluster, member, "app", APP_PASSWORD);
        WatchResponse refused = firstWatchResponse(cluster.channel(member), token, "other");
        assertTrue(refused.getCreated());
        assertTrue(refused.getCanceled());
        assertEquals("etcdserver: permission denied", refused.getCancelReason());
        WatchResponse allowed = firstWatchResponse(cluster.channel(member), token, "app/y");
        assertTrue(allowed.getCreated());
        assertFalse(allowed.getCanceled());

        // Without a token: etcd's "user name is empty".
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "etcdserver: user name is empty",
                () -> kv(cluster, member, null).range(range("app/x")));
        assertStatus(
                Status.Code.PERMISSION_DENIED,
                "etcdserver: permission denied",
                () -> kv(cluster, member, token).put(put("other", "1")));
    }

    private static void assertDenied(org.junit.jupiter.api.function.Executable call) {
        ExecutionException failure = assertThrows(ExecutionException.class, call);
        if (failure.getCause() instanceof io.etcd.jetcd.common.exception.EtcdException etcd) {
            // jetcd's Lock and Election clients hand the status over in an exception of their own.
            assertEquals(
                    io.etcd.jetcd.common.exception.ErrorCode.PERMISSION_DENIED,
                    etcd.getErrorCode(),
                    etcd.toString());
            assertTrue(
                    etcd.getMessage().contains("etcdserver: permission denied"), etcd.getMessage());
            return;
        }
        Status status = Status.fromThrowable(failure.getCause());
        assertEquals(Status.Code.PERMISSION_DENIED, status.getCode(), status.toString());
        assertEquals("etcdserver: permission denied", status.getDescription());
    }

    private static WatchResponse firstWatchResponse(
            ManagedChannel channel, String token, String key) throws InterruptedException {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), token);
        BlockingQueue<WatchResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<WatchRequest> requests =
                WatchGrpc.newStub(channel)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                        .watch(
                                new StreamObserver<>() {
                                    @Override
                                    public void onNext(WatchResponse response) {
                                        responses.add(response);
                                    }

                                    @Override
                                    public void onError(Throwable t) {}

                                    @Override
                                    public void onCompleted() {}
                                });
        requests.onNext(
                WatchRequest.newBuilder()
                        .setCreateRequest(
                                WatchCreateRequest.newBuilder()
                                        .setKey(ByteString.copyFromUtf8(key)))
                        .build());
        WatchResponse first = responses.poll(30, TimeUnit.SECONDS);
        requests.onCompleted();
        assertTrue(first != null, "no watch response");
        return first;
    }

    @Test
    @Order(3)
    void aTokenWorksOnEveryMemberUntilItExpires(EtcdCluster cluster) throws Exception {
        String token = token(cluster, 0, "app", APP_PASSWORD);
        for (int member = 0; member < 3; member++) {
            kv(cluster, member, token).put(put("app/from-" + member, "ok"));
        }
        assertEquals(
                3,
                kv(cluster, 2, token)
                        .range(
                                RangeRequest.newBuilder()
                                        .setKey(ByteString.copyFromUtf8("app/from-"))
                                        .setRangeEnd(ByteString.copyFromUtf8("app/from."))
                                        .build())
                        .getCount());
        // The test cluster's tokens last 3 s.
        awaitExpiry(cluster, token);
        assertStatus(
                Status.Code.UNAUTHENTICATED,
                "etcdserver: invalid auth token",
                () -> kv(cluster, 1, "not-a-token").range(range("app/x")));
        // jetcd authenticates again by itself when its token is refused.
        try (Client app = jetcdAs(cluster, 1, "app", APP_PASSWORD)) {
            get(app.getKVClient().put(bytes("app/before"), bytes("1")));
            // A token issued after jetcd's expires after it too.
            awaitExpiry(cluster, token(cluster, 1, "app", APP_PASSWORD));
            get(app.getKVClient().put(bytes("app/after"), bytes("1")));
        }
    }

    /**
     * Waits until member 1 refuses {@code token} as etcd refuses an expired one (the test cluster's
     * last 3 s).
     */
    private static void awaitExpiry(EtcdCluster cluster, String token) {
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(250))
                .until(
                        () -> {
                            try {
                                kv(cluster, 1, token).range(range("app/x"));
                                return false;
                            } catch (StatusRuntimeException e) {
                                assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
                                assertEquals(
                                        "etcdserver: invalid auth token",
                                        e.getStatus().getDescription());
                                return true;
                            }
                        });
    }

    @Test
    @Order(4)
    void aRoleChangeHoldsFromTheNextRequest(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        String root = token(cluster, member, "root", ROOT_PASSWORD);
        String app = token(cluster, member, "app", APP_PASSWORD);
        kv(cluster, member, app).put(put("app/change", "1"));
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), root);
        AuthGrpc.AuthBlockingStub asRoot =
                auth(cluster, cluster.awaitLeader())
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        asRoot.roleRevokePermission(
                AuthRoleRevokePermissionRequest.newBuilder()
                        .setRole("app")
                        .setKey(ByteString.copyFromUtf8("app/"))
                        .setRangeEnd(ByteString.copyFromUtf8("app0"))
                        .build());
        assertStatus(
                Status.Code.PERMISSION_DENIED,
                "etcdserver: permission denied",
                () -> kv(cluster, member, app).put(put("app/change", "2")));
        asRoot.roleGrantPermission(
                AuthRoleGrantPermissionRequest.newBuilder()
                        .setName("app")
                        .setPerm(
                                Permission.newBuilder()
                                        .setPermType(Permission.Type.READWRITE)
                                        .setKey(ByteString.copyFromUtf8("app/"))
                                        .setRangeEnd(ByteString.copyFromUtf8("app0")))
                        .build());
        kv(cluster, member, app).put(put("app/change", "3"));
    }

    @Test
    @Order(5)
    void theGatewayTakesTheTokenInTheAuthorizationHeader(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        String token = token(cluster, member, "app", APP_PASSWORD);
        URI uri =
                URI.create(
                        "http://127.0.0.1:" + cluster.webAddress(member).getPort() + "/v3/kv/put");
        String body = "{\"key\":\"YXBwL2d3\",\"value\":\"MQ==\"}"; // app/gw = 1
        HttpResponse<String> permitted =
                HTTP.send(
                        HttpRequest.newBuilder(uri)
                                .header("Authorization", token)
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, permitted.statusCode(), permitted.body());
        HttpResponse<String> anonymous =
                HTTP.send(
                        HttpRequest.newBuilder(uri)
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(400, anonymous.statusCode());
        assertTrue(anonymous.body().contains("etcdserver: user name is empty"), anonymous.body());
        HttpResponse<String> forged =
                HTTP.send(
                        HttpRequest.newBuilder(uri)
                                .header("Authorization", token + "x")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(401, forged.statusCode());
        assertTrue(forged.body().contains("etcdserver: invalid auth token"), forged.body());
    }

    @Test
    @Order(6)
    void locksAndElectionsNeedWhatTheirKeysNeed(EtcdCluster cluster) throws Exception {
        int member = cluster.follower();
        try (Client app = jetcdAs(cluster, member, "app", APP_PASSWORD)) {
            long holderLease = get(app.getLeaseClient().grant(60)).getID();
            long waiterLease = get(app.getLeaseClient().grant(60)).getID();
            ByteSequence held =
                    get(app.getLockClient().lock(bytes("app/lock"), holderLease)).getKey();
            var waiting = app.getLockClient().lock(bytes("app/lock"), waiterLease);
            assertThrows(
                    java.util.concurrent.TimeoutException.class,
                    () -> waiting.get(300, TimeUnit.MILLISECONDS));
            get(app.getLockClient().unlock(held));
            // The waiter's turn comes after a watch saw the holder go: still as user app.
            assertTrue(
                    KvApiTest.text(waiting.get(30, TimeUnit.SECONDS).getKey())
                            .startsWith("app/lock/"));

            assertDenied(() -> get(app.getLockClient().lock(bytes("other-lock"), holderLease)));
            get(app.getElectionClient().campaign(bytes("app/election"), holderLease, bytes("v1")));
            assertEquals(
                    "v1",
                    KvApiTest.text(
                            get(app.getElectionClient().leader(bytes("app/election")))
                                    .getKv()
                                    .getValue()));
            assertDenied(
                    () ->
                            get(
                                    app.getElectionClient()
                                            .campaign(
                                                    bytes("other-election"),
                                                    holderLease,
                                                    bytes("v"))));
        }
    }

    /** A separate single-member cluster whose logins are limited to 2 a second per address. */
    @Test
    @Order(7)
    void authenticateIsRateLimitedPerAddress(@TempDir Path dir) throws Exception {
        try (EtcdCluster limited =
                new EtcdCluster(
                        dir,
                        1,
                        1,
                        Duration.ofSeconds(3),
                        new AuthSettings(Duration.ofMinutes(1), 4, 2))) {
            limited.awaitLeader();
            AuthGrpc.AuthBlockingStub stub = auth(limited, 0);
            int refused = 0;
            for (int i = 0; i < 20; i++) {
                try {
                    stub.authenticate(
                            AuthenticateRequest.newBuilder()
                                    .setName("root")
                                    .setPassword("guess" + i)
                                    .build());
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                        assertEquals(
                                "etcdserver: too many requests", e.getStatus().getDescription());
                        refused++;
                    } else {
                        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
                    }
                }
            }
            assertTrue(refused >= 10, "only " + refused + " of 20 rapid attempts were refused");
        }
    }
}
