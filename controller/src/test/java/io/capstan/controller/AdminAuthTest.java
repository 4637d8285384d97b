package io.capstan.controller;

import static io.capstan.controller.AdminHttp.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin token on a real daemon: /v1/* and /metrics need it (401 without, 403 with another),
 * /health/*, etcd's gateway and the peer routes do not; and a daemon reachable beyond loopback does
 * not start without one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AdminAuthTest {
    private static final String TOKEN = "c2VjcmV0LWFkbWluLXRva2VuLTAxMjM0NTY3ODk=";

    private DaemonCluster cluster;
    private Daemon daemon;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
        cluster =
                DaemonCluster.start(dir, 1, "web", "capstan.admin.token-file = \"" + token + "\"");
        daemon = cluster.member(0);
        cluster.awaitLeader(cluster.members(), Duration.ofSeconds(60));
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private AdminHttp.Reply get(String path, String authorization) throws Exception {
        return send(daemon, "GET", path, Optional.empty(), Optional.ofNullable(authorization));
    }

    @Test
    void withoutATokenTheAdminEndpointsAnswer401WithABearerChallenge() throws Exception {
        for (String authorization :
                new String[] {null, "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer "}) {
            AdminHttp.Reply reply = get("/v1/cluster", authorization);
            assertEquals(401, reply.status(), authorization + " -> " + reply.text());
            assertEquals("unauthorized", reply.errorCode());
            assertEquals(
                    "Bearer realm=\"capstan\"",
                    reply.headers().firstValue("WWW-Authenticate").orElseThrow());
        }
        AdminHttp.Reply add =
                send(
                        daemon,
                        "POST",
                        "/v1/cluster/members",
                        Optional.of("{\"peer_url\":\"http://127.0.0.1:9\"}"),
                        Optional.empty());
        assertEquals(401, add.status(), add.text());
        assertEquals(401, get("/v1/snapshot", null).status());
        assertEquals(401, get("/metrics", null).status());
        assertEquals(
                1,
                get("/v1/cluster", "Bearer " + TOKEN).json().path("members").size(),
                "the refused add changed nothing");
    }

    @Test
    void anotherTokenIsForbidden() throws Exception {
        for (String authorization :
                new String[] {
                    "Bearer " + TOKEN.substring(1),
                    "Bearer " + TOKEN + "x",
                    "Bearer " + TOKEN.toLowerCase()
                }) {
            AdminHttp.Reply reply = get("/v1/cluster", authorization);
            assertEquals(403, reply.status(), authorization + " -> " + reply.text());
            assertEquals("forbidden", reply.errorCode());
        }
        assertEquals(403, get("/metrics", "Bearer nope-nope-nope-nope").status());
    }

    @Test
    void theTokenOpensThemWhateverTheSchemesCase() throws Exception {
        assertEquals(200, get("/v1/cluster", "Bearer " + TOKEN).status());
        assertEquals(200, get("/v1/cluster", "bearer " + TOKEN).status());
        AdminHttp.Reply metrics = get("/metrics", "Bearer " + TOKEN);
        assertEquals(200, metrics.status(), metrics.text());
    }

    @Test
    void healthAndEtcdsGatewayNeedNoToken() throws Exception {
        assertEquals(200, get("/health/live", null).status());
        // A member just started is ready once it has applied its first entry.
        AdminHttp.Reply[] ready = {null};
        DaemonCluster.awaitTrue(
                "ready without a token",
                Duration.ofSeconds(30),
                () -> {
                    try {
                        ready[0] = get("/health/ready", null);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    return ready[0].status() == 200;
                });
        assertEquals("ready", ready[0].json().path("status").asText(), ready[0].text());
        AdminHttp.Reply range =
                send(
                        daemon,
                        "POST",
                        "/v3/kv/range",
                        Optional.of("{\"key\":\"Zm9v\"}"),
                        Optional.empty());
        assertEquals(200, range.status(), "etcd's own auth governs /v3/*: " + range.text());
    }

    @Test
    void aDaemonBeyondLoopbackWithoutATokenDoesNotStart(@TempDir Path dir) throws Exception {
        Path secret =
                Files.writeString(
                        dir.resolve("cluster.secret"),
                        "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=");
        Path conf =
                Files.writeString(
                        dir.resolve("open.conf"),
                        String.join(
                                "\n",
                                "capstan.node.data-dir = \"" + dir.resolve("n1") + "\"",
                                "capstan.web { host = \"0.0.0.0\", port = 0 }",
                                "capstan.api.port = 0",
                                "capstan.raft.secret-file = \"" + secret + "\""));
        StringWriter err = new StringWriter();

        int exit =
                Main.commandLine()
                        .setOut(new PrintWriter(new StringWriter(), true))
                        .setErr(new PrintWriter(err, true))
                        .execute("serve", "--config", conf.toString());

        assertEquals(ExitCodes.USAGE, exit, err.toString());
        assertTrue(err.toString().contains("capstan.admin.token-file"), err.toString());
        assertTrue(Files.notExists(dir.resolve("n1")), "nothing started");
    }
}
