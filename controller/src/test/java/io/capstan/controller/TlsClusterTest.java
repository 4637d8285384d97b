package io.capstan.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-member cluster with TLS on both ports and no client certificates asked: members trust each
 * other through the CA that follows their certificate in {@code node.crt}; etcd clients and the CLI
 * need only the CA ({@code --cacert}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TlsClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration CALL = Duration.ofSeconds(10);

    private TestPki pki;
    private DaemonCluster cluster;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        pki = TestPki.make(dir.resolve("pki"));
        cluster = DaemonCluster.start(dir, 3, "web", pki.config(false));
        cluster.awaitLeader(cluster.members(), WAIT);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Client etcd(int member) throws Exception {
        return Client.builder()
                .endpoints("https://127.0.0.1:" + cluster.apiPort(member))
                .sslContext(pki.jetcdContext(pki, false))
                .build();
    }

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

    private String endpoints() {
        return cluster.members().stream()
                .map(d -> "https://127.0.0.1:" + d.webAddress().getPort())
                .collect(Collectors.joining(","));
    }

    @Test
    void aWriteThroughOneMemberIsReadThroughAnotherWithOnlyTheCaTrusted() throws Exception {
        ByteSequence key = ByteSequence.from("tls/plain", StandardCharsets.UTF_8);
        ByteSequence value = ByteSequence.from("over TLS", StandardCharsets.UTF_8);
        try (Client second = etcd(1);
                Client third = etcd(2)) {
            second.getKVClient().put(key, value).get(CALL.toSeconds(), TimeUnit.SECONDS);

            assertEquals(
                    value,
                    third.getKVClient()
                            .get(key)
                            .get(CALL.toSeconds(), TimeUnit.SECONDS)
                            .getKvs()
                            .get(0)
                            .getValue());
            // etcd's member list gives clients the https URLs of the API, once each member
            // published its own.
            await().atMost(WAIT)
                    .untilAsserted(
                            () -> {
                                List<Member> members =
                                        third.getClusterClient()
                                                .listMember()
                                                .get(CALL.toSeconds(), TimeUnit.SECONDS)
                                                .getMembers();
                                assertEquals(3, members.size());
                                for (Member member : members) {
                                    List<URI> api = member.getClientURIs();
                                    assertEquals(1, api.size(), member.getName() + " " + api);
                                    assertEquals(
                                            "https",
                                            api.get(0).getScheme(),
                                            member.getName() + " " + api);
                                }
                            });
        }
    }

    @Test
    void aBadTlsFileStopsServeWithExitCode2BeforeAnythingStarts(@TempDir Path dir)
            throws Exception {
        Path conf =
                Files.writeString(
                        dir.resolve("bad-tls.conf"),
                        String.join(
                                "\n",
                                "capstan.node.data-dir = \"" + dir.resolve("n1") + "\"",
                                "capstan.web.port = 0",
                                "capstan.api.port = 0",
                                "capstan.tls { cert-file = \""
                                        + pki.nodeCert()
                                        + "\", key-file = \""
                                        + pki.clientKey()
                                        + "\" }"));

        AdminCliTest.Run run = capstan(List.of("serve", "--config", conf.toString()));

        assertEquals(ExitCodes.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("capstan.tls.key-file"), run.toString());
        assertTrue(run.err().contains("does not belong to the certificate"), run.toString());
        assertTrue(Files.notExists(dir.resolve("n1")), "nothing started");
    }

    @Test
    void theCliTrustsHttpsEndpointsThroughCacertOnly() throws Exception {
        List<String> health = new ArrayList<>(List.of("health", "--endpoints", endpoints()));
        List<String> trusting = new ArrayList<>(health);
        trusting.addAll(pki.cliOptions(false));
        await().atMost(WAIT)
                .untilAsserted(
                        () -> {
                            AdminCliTest.Run run = capstan(trusting);
                            assertEquals(ExitCodes.OK, run.exit(), run.toString());
                        });

        // Without --cacert the JVM's trust store does not know the test CA.
        AdminCliTest.Run untrusted = capstan(health);
        assertEquals(ExitCodes.FAILED, untrusted.exit(), untrusted.toString());
        assertTrue(untrusted.toString().contains("PKIX"), untrusted.toString());
    }
}
