package io.capstan.artifacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.capstan.raft.proto.ArtifactRecord;
import io.capstan.transport.MemberCredentials;
import io.capstan.web.Admission;
import io.capstan.web.Gate;
import io.capstan.web.JsonResponses;
import io.capstan.web.RequestBodies;
import io.capstan.web.RequestContext;
import io.capstan.web.Route;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The artifact endpoints on the web port:
 *
 * <ul>
 *   <li>{@code POST /v1/artifacts} {@code {"url", "digest", "references"?, "media_type"?,
 *       "size"?}}: registers an artifact by its source and digest; 202 while it is being fetched,
 *       200 when this member already holds it;
 *   <li>{@code GET /v1/artifacts}: every artifact with its state, and this member's progress;
 *   <li>{@code GET|HEAD /v1/artifacts/{digest}}: its bytes, from any member (one that lacks them
 *       fetches them first), see {@link FileResponse};
 *   <li>{@code DELETE /v1/artifacts/{digest}}: deletes it, refused (409) while it has references;
 *       with {@code ?reference=NAME} (repeatable) it drops those references instead;
 *   <li>{@code GET /peer/artifacts/{digest}}: the bytes this member holds, for other members only
 *       (the cluster secret, as on the Raft peer routes); never fetches.
 * </ul>
 *
 * <p>Threading: handlers start on an I/O thread, read bodies without blocking, and continue on the
 * work executor once the service answers; bytes are sent without blocking. Immutable.
 */
final class ArtifactApi {
    static final String PATH = "/v1/artifacts";
    static final String PEER_PATH_PREFIX = "/peer/artifacts/";
    static final String DIGEST = "digest";

    /** Registrations are a line of JSON. */
    static final long MAX_BODY_BYTES = 64 * 1024;

    /**
     * Requests that answer at once share the admin API's budget ({@code
     * capstan.web.admission.admin}).
     */
    static final Admission ADMIN = Admission.budget("admin");

    /**
     * Requests that move an artifact's bytes (downloads, upload bodies) can last long; they have a
     * budget of their own ({@code capstan.web.admission.artifacts}), so they never take the admin
     * API's places.
     */
    static final Admission TRANSFERS = Admission.budget("artifacts");

    private static final ObjectReader JSON = new ObjectMapper().reader();

    private final ArtifactService service;
    private final MemberCredentials credentials;
    private final Executor work;

    ArtifactApi(ArtifactService service, MemberCredentials credentials, Executor work) {
        this.service = service;
        this.credentials = credentials;
        this.work = work;
    }

    List<Route> routes(Gate owner) {
        String one = PATH + "/{" + DIGEST + "}";
        return List.of(
                new Route("POST", PATH, owner, MAX_BODY_BYTES, ADMIN, this::register),
                new Route("GET", PATH, owner, MAX_BODY_BYTES, ADMIN, this::list),
                new Route("GET", one, owner, MAX_BODY_BYTES, TRANSFERS, this::download),
                new Route("HEAD", one, owner, MAX_BODY_BYTES, ADMIN, this::download),
                new Route("DELETE", one, owner, MAX_BODY_BYTES, ADMIN, this::delete),
                // Exempt, as peer messages are: members bound these themselves (fetch.parallel
                // each), and a request without the cluster secret is refused on its headers.
                new Route(
                        "GET",
                        PEER_PATH_PREFIX + "{" + DIGEST + "}",
                        owner,
                        MAX_BODY_BYTES,
                        Admission.EXEMPT,
                        this::peerDownload));
    }

    private void list(HttpServerExchange exchange) {
        answer(
                exchange,
                service.list()
                        .thenApply(
                                all -> Map.of("artifacts", all.stream().map(this::view).toList())),
                200);
    }

    private void register(HttpServerExchange exchange) {
        RequestBodies.readFully(
                exchange,
                (ex, body) -> {
                    Registration registration;
                    try {
                        registration = Registration.parse(body);
                    } catch (Errors.Refusal e) {
                        Errors.send(ex, e);
                        return;
                    }
                    continueWith(
                            ex,
                            () ->
                                    service.register(
                                            registration.digest(),
                                            registration.url(),
                                            registration.size(),
                                            registration.mediaType(),
                                            registration.references()),
                            (e, registered) -> {
                                JsonResponses.send(
                                        e,
                                        registered.local() ? 200 : 202,
                                        view(registered.record()));
                            });
                });
    }

    private void download(HttpServerExchange exchange) {
        Digest digest = digestParameter(exchange);
        if (digest == null) {
            return;
        }
        continueWith(
                exchange,
                () -> service.local(digest),
                (ex, local) ->
                        FileResponse.send(
                                ex,
                                local.path(),
                                digest,
                                local.record().map(ArtifactRecord::getMediaType).orElse("")));
    }

    private void peerDownload(HttpServerExchange exchange) {
        if (!credentials.admits(exchange)) {
            JsonResponses.sendError(
                    exchange,
                    401,
                    "unauthorized",
                    "artifact peer requests need the cluster secret");
            return;
        }
        Digest digest = digestParameter(exchange);
        if (digest == null) {
            return;
        }
        continueWith(
                exchange,
                () -> CompletableFuture.supplyAsync(() -> storedFile(digest), work),
                (ex, path) -> FileResponse.send(ex, path, digest, "application/octet-stream"));
    }

    /** The verified file of {@code digest} on this member; a 404 refusal when it has none. */
    private Path storedFile(Digest digest) {
        try {
            return service.store()
                    .verified(digest)
                    .orElseThrow(
                            () ->
                                    new Errors.Refusal(
                                            404,
                                            "artifact_not_found",
                                            "artifact "
                                                    + digest
                                                    + " is not on member "
                                                    + service.records().self()));
        } catch (IOException e) {
            throw Errors.wrapped(e);
        }
    }

    private void delete(HttpServerExchange exchange) {
        Digest digest = digestParameter(exchange);
        if (digest == null) {
            return;
        }
        Deque<String> references = exchange.getQueryParameters().get("reference");
        if (references == null || references.isEmpty()) {
            answer(exchange, service.delete(digest).thenApply(this::view), 200);
            return;
        }
        for (String reference : references) {
            if (reference.isEmpty()) {
                Errors.send(exchange, Errors.badRequest("reference must not be empty"));
                return;
            }
        }
        answer(
                exchange,
                service.release(digest, List.copyOf(references)).thenApply(this::view),
                200);
    }

    /** The digest path parameter, or null after answering 400. */
    private static Digest digestParameter(HttpServerExchange exchange) {
        try {
            return Digest.parse(exchange.getPathParameters().get(DIGEST).getFirst());
        } catch (IllegalArgumentException e) {
            Errors.send(exchange, Errors.badRequest(e.getMessage()));
            return null;
        }
    }

    private void answer(HttpServerExchange exchange, CompletableFuture<?> result, int status) {
        continueWith(exchange, () -> result, (ex, body) -> JsonResponses.send(ex, status, body));
    }

    /** What an answer does with a result, on the work executor. */
    @FunctionalInterface
    private interface Then<T> {
        void accept(HttpServerExchange exchange, T result);
    }

    /**
     * Keeps the exchange open past the handler, runs {@code call} and answers with {@code then} on
     * the work executor, or the failure in the error shape; the request id stays in the MDC.
     */
    private <T> void continueWith(
            HttpServerExchange exchange, Supplier<CompletableFuture<T>> call, Then<T> then) {
        RequestContext context = RequestContext.of(exchange);
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () -> {
                    CompletableFuture<T> result;
                    try {
                        result = call.get();
                    } catch (RuntimeException e) {
                        result = CompletableFuture.failedFuture(e);
                    }
                    result.whenComplete(
                            (value, error) -> {
                                try {
                                    work.execute(
                                            context.wrap(
                                                    () -> {
                                                        if (error != null) {
                                                            Errors.send(exchange, error);
                                                        } else {
                                                            then.accept(exchange, value);
                                                        }
                                                    }));
                                } catch (RejectedExecutionException e) {
                                    context.run(() -> Errors.send(exchange, e));
                                }
                            });
                });
    }

    /** An artifact as the API shows it, with this member's part (holds it, progress of a fetch). */
    Map<String, Object> view(ArtifactRecord record) {
        Digest digest = Digest.parse(record.getDigest());
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("digest", record.getDigest());
        view.put("size", record.getSize());
        view.put("media_type", record.getMediaType());
        view.put("url", record.getSourceUrl());
        view.put("state", record.getState().name().toLowerCase(Locale.ROOT));
        if (!record.getFailure().isEmpty()) {
            view.put("failure", record.getFailure());
        }
        view.put("holders", record.getHoldersList());
        view.put("references", record.getReferencesList());
        view.put("created", Instant.ofEpochMilli(record.getCreatedUnixMs()).toString());
        if (!record.getFetcher().isEmpty()) {
            view.put("fetcher", record.getFetcher());
        }
        view.put("local", service.isLocal(digest));
        service.progress(digest)
                .ifPresent(
                        received -> {
                            Map<String, Object> progress = new LinkedHashMap<>();
                            progress.put("received", received);
                            progress.put("total", record.getSize());
                            view.put("progress", progress);
                        });
        return view;
    }

    /** A registration's body, checked. */
    private record Registration(
            Digest digest, URI url, long size, String mediaType, List<String> references) {

        static Registration parse(byte[] body) {
            JsonNode json;
            try {
                json = JSON.readTree(body);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw Errors.badRequest("the body is not JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw Errors.badRequest("the body is not JSON: " + e.getMessage());
            }
            if (json == null || !json.isObject()) {
                throw Errors.badRequest("the body must be a JSON object with url and digest");
            }
            Digest digest;
            try {
                digest = Digest.parse(text(json, "digest", true));
            } catch (IllegalArgumentException e) {
                throw Errors.badRequest(e.getMessage());
            }
            URI url = url(text(json, "url", true));
            JsonNode size = json.path("size");
            if (!size.isMissingNode()
                    && (!size.canConvertToLong()
                            || size.asLong() < 0
                            || !size.isIntegralNumber())) {
                throw Errors.badRequest("size must be a whole number of bytes");
            }
            List<String> references = new ArrayList<>();
            JsonNode list = json.path("references");
            if (!list.isMissingNode()) {
                if (!list.isArray()) {
                    throw Errors.badRequest("references must be a list of strings");
                }
                for (JsonNode reference : list) {
                    if (!reference.isTextual() || reference.asText().isEmpty()) {
                        throw Errors.badRequest("references must be a list of non-empty strings");
                    }
                    references.add(reference.asText());
                }
            }
            return new Registration(
                    digest, url, size.asLong(0), text(json, "media_type", false), references);
        }

        private static String text(JsonNode json, String field, boolean required) {
            JsonNode node = json.path(field);
            if (node.isMissingNode() && !required) {
                return "";
            }
            if (!node.isTextual()) {
                throw Errors.badRequest(
                        field + " must be a string" + (required ? " and is required" : ""));
            }
            return node.asText();
        }

        private static URI url(String text) {
            try {
                URI url = new URI(text);
                String scheme =
                        url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
                if ((scheme.equals("http") || scheme.equals("https")) && url.getHost() != null) {
                    return url;
                }
            } catch (URISyntaxException e) {
                // reported below
            }
            throw Errors.badRequest("url must be an http or https URL, got " + text);
        }
    }
}
