package io.capstan.controller;

import static io.capstan.controller.AdminHttp.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.NodeStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code /v1/faults/peers} on real daemons with {@code capstan.transport.fault-injection = on}:
 * behind the admin token, bad bodies refused with a 400 naming the problem and nothing changed, a
 * leader cut off through it loses leadership and gets it back in line once cleared; without the key
 * the route does not exist.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PeerFaultsRouteTest {
    private static final String TOKEN = "ZmF1bHQtaW5qZWN0aW9uLXRva2VuLTAxMjM0NTY3";
    private static final String PATH = "/v1/faults/peers";

    private DaemonCluster cluster;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("admin.token"), TOKEN);
        cluster =
                DaemonCluster.start(
                        dir,
                        3,
                        "web",
                        String.join(
                                "\n",
                                "capstan.admin.token-file = \"" + token + "\"",
                                "capstan.transport.fault-injection = on"));
        cluster.awaitLeader(cluster.members(), Duration.ofSeconds(60));
    }

    @AfterEach
    void clear() throws Exception {
        for (Daemon d : cluster.members()) {
            assertEquals(200, call(d, "DELETE", null).status());
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static AdminHttp.Reply call(Daemon d, String method, String body) throws Exception {
        return send(d, method, PATH, Optional.ofNullable(body), Optional.of("Bearer " + TOKEN));
    }

    @Test
    void theRouteNeedsTheAdminToken() throws Exception {
        AdminHttp.Reply put =
                send(
                        cluster.member(0),
                        "PUT",
                        PATH,
                        Optional.of("{\"drop\":[\"n2\"]}"),
                        Optional.empty());

        assertEquals(401, put.status(), put.text());
        assertEquals(
                "[]",
                call(cluster.member(0), "GET", null).json().path("drop").toString(),
                "the refused request changed nothing");
    }

    @Test
    void rulesAreReplacedShownAndCleared() throws Exception {
        Daemon n1 = cluster.member(0);

        AdminHttp.Reply set = call(n1, "PUT", "{\"drop\":[\"n2\"],\"delay_ms\":{\"n3\":150}}");

        assertEquals(200, set.status(), set.text());
        assertEquals("n1", set.json().path("member").asText());
        assertEquals("[\"n2\"]", set.json().path("drop").toString());
        assertEquals("{\"n3\":150}", set.json().path("delay_ms").toString());
        AdminHttp.Reply replaced = call(n1, "PUT", "{\"drop\":[\"n3\"]}");
        assertEquals("[\"n3\"]", replaced.json().path("drop").toString(), replaced.text());
        assertEquals(
                "{}", replaced.json().path("delay_ms").toString(), "a PUT replaces every rule");
        AdminHttp.Reply cleared = call(n1, "DELETE", null);
        assertEquals(200, cleared.status(), cleared.text());
        assertEquals("[]", cleared.json().path("drop").toString());
        assertEquals("{}", call(n1, "GET", null).json().path("delay_ms").toString());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            textBlock =
                    """
            drop n2                 | the request body is not JSON
            ["n2"]                  | the request body must be a JSON object with delay_ms, drop
            {"dorp":["n2"]}         | unknown field 'dorp'; known: delay_ms, drop
            {"drop":"n2"}           | 'drop' must be an array of non-empty strings, was "n2"
            {"drop":["n2",""]}      | 'drop' must be an array of non-empty strings
            {"drop":["n1"]}         | peer n1 is this member
            {"drop":["n9"]}         | no started member n9; members: [n1, n2, n3]
            {"delay_ms":{"n2":0}}   | 'delay_ms.n2' must be a whole number 1..60000, was 0
            {"delay_ms":{"n2":1.5}} | 'delay_ms.n2' must be a whole number 1..60000, was 1.5
            {"delay_ms":{"n2":"9"}} | 'delay_ms.n2' must be a whole number 1..60000, was "9"
            {"delay_ms":["n2"]}     | 'delay_ms' must be an object of names to numbers 1..60000
            {"drop":["n2"],"delay_ms":{"n2":10}} | peer n2 is both in 'drop' and in 'delay_ms'
            """)
    void badBodiesAre400sNamingTheProblemAndChangeNothing(String body, String message)
            throws Exception {
        Daemon n1 = cluster.member(0);
        call(n1, "PUT", "{\"drop\":[\"n3\"]}");

        AdminHttp.Reply reply = call(n1, "PUT", body);

        assertEquals(400, reply.status(), reply.text());
        assertEquals("bad_request", reply.errorCode());
        String said = reply.json().path("error").path("message").asText();
        assertTrue(said.contains(message), said);
        assertEquals(
                "[\"n3\"]",
                call(n1, "GET", null).json().path("drop").toString(),
                "the rules stay as they were");
    }

    @Test
    void aLeaderCutOffThroughTheRouteIsReplacedAndFollowsOnceCleared() throws Exception {
        Daemon old = cluster.awaitLeader(cluster.members(), Duration.ofSeconds(60));
        String oldName = old.raft().nodeId();
        List<Daemon> others = cluster.members().stream().filter(d -> d != old).toList();
        long term = old.raft().status().term();

        String othersJson =
                others.stream()
                        .map(d -> "\"" + d.raft().nodeId() + "\"")
                        .collect(Collectors.joining(","));
        assertEquals(200, call(old, "PUT", "{\"drop\":[" + othersJson + "]}").status());
        for (Daemon d : others) {
            assertEquals(200, call(d, "PUT", "{\"drop\":[\"" + oldName + "\"]}").status());
        }

        Daemon next = cluster.awaitLeader(others, Duration.ofSeconds(60));
        assertNotEquals(oldName, next.raft().nodeId());
        assertTrue(next.raft().status().term() > term, "a new term began");
        assertTrue(
                call(old, "GET", null).json().path("dropped_requests").asLong() > 0,
                "the old leader's requests to the others were dropped");

        clear();
        DaemonCluster.awaitTrue(
                "every member follows one leader again",
                Duration.ofSeconds(60),
                () -> {
                    List<NodeStatus> all =
                            cluster.members().stream().map(d -> d.raft().status()).toList();
                    return all.stream().allMatch(s -> s.leaderId().isPresent())
                            && all.stream().map(NodeStatus::leaderId).distinct().count() == 1;
                });
    }

    @Test
    void withoutTheKeyTheRouteIsUnknown(@TempDir Path dir) throws Exception {
        try (DaemonCluster plain = DaemonCluster.start(dir, 1, "web", "")) {
            Daemon d = plain.member(0);
            for (String method : List.of("GET", "PUT", "DELETE")) {
                AdminHttp.Reply reply =
                        send(d, method, PATH, Optional.of("{\"drop\":[\"n2\"]}"), Optional.empty());
                assertEquals(404, reply.status(), method + " " + reply.text());
                assertEquals(
                        "not_found",
                        reply.errorCode(),
                        "answered as any unknown path: " + reply.text());
                assertEquals(
                        "no route for " + PATH,
                        reply.json().path("error").path("message").asText());
            }
        }
    }
}
