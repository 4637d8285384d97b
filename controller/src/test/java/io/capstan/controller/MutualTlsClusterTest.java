package io.capstan.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.controller.systemd.WebHealthProbe;
import io.capstan.web.PemFiles;
import io.capstan.web.TlsIdentity;
import io.capstan.web.TlsSettings;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-member cluster with mutual TLS on both ports ({@code capstan.tls.client-ca-file} set), with
 * certificates from {@code scripts/make-test-certs.sh}: the members elect a leader and replicate
 * over HTTPS with their own certificates as client certificates; etcd clients, health probes and
 * the CLI get in with a certificate of the client CA and are refused in the handshake without one
 * or with another CA's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class MutualTlsClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration CALL = Duration.ofSeconds(10);
    private static final String TOKEN = "bXV0dWFsLXRscy10ZXN0LWFkbWluLXRva2Vu";

    private TestPki pki;

    /** A CA of its own, whose client certificate the members must refuse. */
    private TestPki stranger;

    private Path token;
    private DaemonCluster cluster;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        pki = TestPki.make(dir.resolve("pki"));
        stranger = TestPki.make(dir.resolve("stranger"));
        token = Files.writeString(dir.resolve("admin.token"), TOKEN);
        cluster =
                DaemonCluster.start(
                        dir,
                        3,
                        "web",
                        pki.config(true) + "capstan.admin.token-file = \"" + token + "\"\n");
        cluster.awaitLeader(cluster.members(), WAIT);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Client etcd(int member, SslContext tls) {
        return Client.builder()
                .endpoints("https://127.0.0.1:" + cluster.apiPort(member))
                .sslContext(tls)
                .build();
    }

    /**
     * A client whose calls fail at once, instead of waiting, when its connection cannot be set up.
     */
    private Client impatientEtcd(int member, SslContext tls) {
        return Client.builder()
                .endpoints("https://127.0.0.1:" + cluster.apiPort(member))
                .sslContext(tls)
                .waitForReady(false)
                .retryMaxAttempts(0)
                .build();
    }

    private URI web(int member, String path) {
        return URI.create(
                "https://127.0.0.1:" + cluster.member(member).webAddress().getPort() + path);
    }

    private static HttpResponse<String> get(SSLContext tls, URI uri) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(CALL).build();
        return client.send(
                HttpRequest.newBuilder(uri).timeout(CALL).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static SSLContext clientContext(TestPki holder, TestPki trusted) throws Exception {
        return new TlsIdentity(
                        PemFiles.certificates(holder.clientCert()),
                        PemFiles.privateKey(holder.clientKey()))
                .clientContext(PemFiles.certificates(trusted.caCert()));
    }

    @Test
    void aWriteThroughOneMemberIsReadThroughAnother() throws Exception {
        ByteSequence key = ByteSequence.from("tls/greeting", StandardCharsets.UTF_8);
        ByteSequence value = ByteSequence.from("over mutual TLS", StandardCharsets.UTF_8);
        try (Client first = etcd(0, pki.jetcdContext(pki, true));
                Client third = etcd(2, pki.jetcdContext(pki, true))) {
            first.getKVClient().put(key, value).get(CALL.toSeconds(), TimeUnit.SECONDS);

            // A linearizable read on another member goes through the leader: replication and
            // ReadIndex over peer TLS.
            assertEquals(
                    value,
                    third.getKVClient()
                            .get(key)
                            .get(CALL.toSeconds(), TimeUnit.SECONDS)
                            .getKvs()
                            .get(0)
                            .getValue());
        }
    }

    @Test
    void theApiRefusesClientsWithoutAClientCertificateOfTheCa() throws Exception {
        try (Client anonymous = impatientEtcd(0, pki.jetcdContext(pki, false));
                Client foreign = impatientEtcd(0, stranger.jetcdContext(pki, true));
                Client member = impatientEtcd(0, pki.jetcdContext(pki, true))) {
            ByteSequence key = ByteSequence.from("tls/nope", StandardCharsets.UTF_8);
            for (Client refused : List.of(anonymous, foreign)) {
                ExecutionException e =
                        assertThrows(
                                ExecutionException.class,
                                () ->
                                        refused.getKVClient()
                                                .get(key)
                                                .get(CALL.toSeconds(), TimeUnit.SECONDS));
                assertTrue(
                        e.getCause().getMessage().contains("UNAVAILABLE: ssl exception"),
                        e.toString());
            }
            // The same client with a certificate of the CA is served.
            assertEquals(
                    0,
                    member.getKVClient()
                            .get(key)
                            .get(CALL.toSeconds(), TimeUnit.SECONDS)
                            .getCount());
        }
    }

    @Test
    void healthIsServedOnlyToClientsWithACertificateOfTheCa() throws Exception {
        await().atMost(WAIT)
                .untilAsserted(
                        () ->
                                assertEquals(
                                        200,
                                        get(clientContext(pki, pki), web(1, "/health/ready"))
                                                .statusCode()));

        assertThrows(
                IOException.class,
                () -> get(AdminClient.trusting(pki.caCert()), web(1, "/health/live")));
        assertThrows(
                IOException.class, () -> get(clientContext(stranger, pki), web(1, "/health/live")));
        HttpClient cleartext = HttpClient.newBuilder().connectTimeout(CALL).build();
        URI plain =
                URI.create(
                        "http://127.0.0.1:"
                                + cluster.member(1).webAddress().getPort()
                                + "/health/live");
        assertThrows(
                IOException.class,
                () ->
                        cleartext.send(
                                HttpRequest.newBuilder(plain).timeout(CALL).build(),
                                HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void theWatchdogProbesItsOwnListenerWithItsOwnCertificate() throws Exception {
        TlsSettings tls =
                new TlsSettings(
                        new TlsIdentity(
                                PemFiles.certificates(pki.nodeCert()),
                                PemFiles.privateKey(pki.nodeKey())),
                        PemFiles.certificates(pki.caCert()));
        Daemon member = cluster.member(0);

        WebHealthProbe probe =
                new WebHealthProbe(() -> true, member::webAddress, Optional.of(tls.selfContext()));
        assertEquals(Optional.empty(), probe.probe(CALL).toCompletableFuture().get());

        Optional<String> cleartext =
                new WebHealthProbe(() -> true, member::webAddress)
                        .probe(CALL)
                        .toCompletableFuture()
                        .get();
        assertTrue(
                cleartext.isPresent() && cleartext.get().contains("GET http://"),
                cleartext.toString());
    }

    /** Runs {@code capstan args...} in this JVM, capturing its output. */
    private static AdminCliTest.Run capstan(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit =
                Main.commandLine()
                        .setOut(new PrintWriter(out, true))
                        .setErr(new PrintWriter(err, true))
                        .execute(args.toArray(String[]::new));
        return new AdminCliTest.Run(exit, out.toString(), err.toString());
    }

    private List<String> status(boolean clientCertificate) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "cluster",
                                "status",
                                "--json",
                                "--endpoints",
                                web(0, "").toString(),
                                "--token-file",
                                token.toString()));
        args.addAll(pki.cliOptions(clientCertificate));
        return args;
    }

    @Test
    void theCliPresentsItsClientCertificateAndTheMemberProbesItsPeersOverTls() throws Exception {
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            AdminCliTest.Run run = capstan(status(true));
                            assertEquals(ExitCodes.OK, run.exit(), run.toString());
                            JsonNode members =
                                    new ObjectMapper().readTree(run.out()).path("members");
                            assertEquals(3, members.size(), run.toString());
                            // The answering member asked the other two for their Raft state over
                            // HTTPS with its certificate.
                            members.forEach(
                                    m ->
                                            assertTrue(
                                                    m.path("raft").path("reachable").asBoolean(),
                                                    run.toString()));
                        });

        AdminCliTest.Run withoutCertificate = capstan(status(false));
        assertEquals(ExitCodes.FAILED, withoutCertificate.exit(), withoutCertificate.toString());

        List<String> keyless = new ArrayList<>(status(false));
        keyless.addAll(List.of("--cert", pki.clientCert().toString()));
        AdminCliTest.Run usage = capstan(keyless);
        assertEquals(ExitCodes.USAGE, usage.exit(), usage.toString());
        assertTrue(usage.err().contains("--cert needs --key"), usage.toString());
    }
}
