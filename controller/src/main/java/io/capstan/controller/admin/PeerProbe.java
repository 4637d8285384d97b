package io.capstan.controller.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;

/**
 * Asks another member for its Raft numbers through its {@code /health/ready}, which needs no token
 * and answers from local state even without a quorum (with TLS, over HTTPS whatever scheme the
 * member's recorded URL has, presenting this member's certificate as peers do). A member only knows
 * its own term, commit and applied index for sure; what a leader knows of its followers is
 * Ratis-internal and absent on a follower, and gone exactly when it matters (no leader). Asking
 * each member directly works from any member, in any outage, and marks the ones that do not answer
 * within {@link #TIMEOUT}.
 *
 * <p>Thread-safe: the HTTP client is, and is made at the first probe (a member nobody asks never
 * has one); its callbacks run on the executor given.
 */
final class PeerProbe {
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final String READY_PATH = "/health/ready";
    private static final ObjectReader READER = new ObjectMapper().reader();

    private final Executor executor;
    private final Optional<SSLContext> tls;

    /** Made once, under this object's lock, at the first probe. */
    private HttpClient client;

    /**
     * @param tls how to reach members when their web layers serve TLS; empty: cleartext
     */
    PeerProbe(Executor executor, Optional<SSLContext> tls) {
        this.executor = executor;
        this.tls = tls;
    }

    private synchronized HttpClient client() {
        if (client == null) {
            HttpClient.Builder builder =
                    HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(TIMEOUT)
                            .executor(executor);
            tls.ifPresent(builder::sslContext);
            client = builder.build();
        }
        return client;
    }

    /**
     * The Raft state of the member whose web layer is at {@code webUrl}, as the admin API writes
     * it: {@code {"reachable": true, "role", "term", "commit_index", "applied_index",
     * "last_contact_ms"}}, or {@code {"reachable": false, "error": why}}. Never fails.
     */
    CompletableFuture<Map<String, Object>> raftState(String webUrl) {
        URI uri;
        try {
            String base = webUrl.replaceAll("/+$", "");
            // Members' URLs are recorded as http://; the web layers all serve TLS or none do.
            if (tls.isPresent() && base.startsWith("http://")) {
                base = "https://" + base.substring("http://".length());
            }
            uri = URI.create(base + READY_PATH);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(unreachable("bad peer URL " + webUrl));
        }
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build();
        return client().sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                .handle(
                        (response, error) ->
                                error != null ? unreachable(describe(error)) : parse(response));
    }

    /** The state of a member this one cannot ask. */
    static Map<String, Object> unreachable(String why) {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("reachable", false);
        state.put("error", why);
        return state;
    }

    /** What every member's entry holds, from a member's own numbers. */
    static Map<String, Object> reachable(
            String role, long term, long commit, long applied, Long lastContactMillis) {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("reachable", true);
        state.put("role", role);
        state.put("term", term);
        state.put("commit_index", commit);
        state.put("applied_index", applied);
        state.put("last_contact_ms", lastContactMillis);
        return state;
    }

    private static Map<String, Object> parse(HttpResponse<byte[]> response) {
        if (response.statusCode() != 200 && response.statusCode() != 503) {
            return unreachable("GET " + response.uri() + " answered HTTP " + response.statusCode());
        }
        try {
            JsonNode raft = READER.readTree(response.body()).path("raft");
            if (!raft.path("term").isIntegralNumber()) {
                return unreachable("GET " + response.uri() + " has no Raft state");
            }
            JsonNode lastContact = raft.path("lastContactMillis");
            return reachable(
                    raft.path("role").asText(),
                    raft.path("term").asLong(),
                    raft.path("commitIndex").asLong(),
                    raft.path("appliedIndex").asLong(),
                    lastContact.isIntegralNumber() ? lastContact.asLong() : null);
        } catch (IOException e) {
            return unreachable("GET " + response.uri() + " is not JSON: " + e.getMessage());
        }
    }

    private static String describe(Throwable error) {
        Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error;
        if (cause instanceof HttpTimeoutException) {
            return "no answer within " + TIMEOUT.toMillis() + "ms";
        }
        if (cause instanceof ConnectException) {
            return "connection refused";
        }
        return cause.toString();
    }
}
