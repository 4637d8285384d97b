package io.capstan.artifacts;

import io.capstan.web.Gate;
import io.capstan.web.JsonResponses;
import io.capstan.web.Route;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tus resumable upload protocol 1.0.0 at {@value #PATH}: core (HEAD, PATCH, OPTIONS), creation
 * and creation-with-upload (POST), termination (DELETE), expiration ({@code Upload-Expires}) and
 * checksum ({@code Upload-Checksum: sha256 <base64>}). A finished upload ends as a verified
 * artifact: its bytes move into the store under their digest (which must be the {@code digest}
 * metadata value when the client gave one) and the cluster records that this member holds it; the
 * last answer names it in {@value #ARTIFACT_HEADER}.
 *
 * <p>Metadata keys Capstan reads: {@code digest} ({@code sha256:<hex>}, checked at the end), {@code
 * filetype} (the media type) and {@code reference} (a reference the artifact gets).
 *
 * <p><b>Requests.</b> Each request's headers are read once into an immutable {@link TusRequest}
 * (with the web layer's immutable request context) before anything else happens. A PATCH owns its
 * upload ({@link Upload#tryOwn()}) from before its body is read until its answer: a second PATCH, a
 * DELETE, or expiry meanwhile is refused with 423 and never touches the bytes. The body is read on
 * a worker thread, in the order it arrives, into the upload's file at its offset; the new offset is
 * recorded only after those bytes were synced. A PATCH whose connection breaks keeps every byte
 * that arrived (synced, then recorded), unless it carried a checksum, which those bytes can no
 * longer match: then the upload stays where it was. A checksum that does not match (460) leaves the
 * offset where it was too.
 *
 * <p>Threading: handlers start on I/O threads; bodies are read and files written on the web layer's
 * worker threads, one owner per upload. Counters are {@link ArtifactStats}' adders.
 */
final class TusApi {
    private static final Logger LOG = LoggerFactory.getLogger(TusApi.class);
    static final String PATH = "/v1/uploads";
    static final String ID = "id";
    static final String VERSION = "1.0.0";
    static final String OFFSET_STREAM = "application/offset+octet-stream";
    static final String ARTIFACT_HEADER = "Capstan-Artifact-Digest";
    static final String EXTENSIONS =
            "creation,creation-with-upload,termination,expiration,checksum";
    private static final Duration REGISTER_WAIT = Duration.ofSeconds(30);
    private static final int BUFFER_BYTES = 64 * 1024;
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    static final HttpString TUS_RESUMABLE = new HttpString("Tus-Resumable");
    private static final HttpString TUS_VERSION = new HttpString("Tus-Version");
    private static final HttpString TUS_EXTENSION = new HttpString("Tus-Extension");
    private static final HttpString TUS_MAX_SIZE = new HttpString("Tus-Max-Size");
    private static final HttpString TUS_CHECKSUM_ALGORITHM =
            new HttpString("Tus-Checksum-Algorithm");
    static final HttpString UPLOAD_OFFSET = new HttpString("Upload-Offset");
    private static final HttpString UPLOAD_LENGTH = new HttpString("Upload-Length");
    private static final HttpString UPLOAD_DEFER_LENGTH = new HttpString("Upload-Defer-Length");
    private static final HttpString UPLOAD_METADATA = new HttpString("Upload-Metadata");
    private static final HttpString UPLOAD_EXPIRES = new HttpString("Upload-Expires");
    static final HttpString UPLOAD_CHECKSUM = new HttpString("Upload-Checksum");

    private final Uploads uploads;
    private final ArtifactService service;
    private final ArtifactStats stats;
    private final long maxSize;

    TusApi(Uploads uploads, ArtifactService service, ArtifactStats stats, long maxSize) {
        this.uploads = uploads;
        this.service = service;
        this.stats = stats;
        this.maxSize = maxSize;
    }

    List<Route> routes(Gate owner) {
        String one = PATH + "/{" + ID + "}";
        // The body limit is the upload limit: a PATCH streams to disk, never into memory.
        long body = maxSize;
        return List.of(
                new Route(
                        "OPTIONS",
                        PATH,
                        owner,
                        ArtifactApi.MAX_BODY_BYTES,
                        ArtifactApi.ADMIN,
                        this::options),
                new Route("POST", PATH, owner, body, ArtifactApi.TRANSFERS, this::create),
                new Route(
                        "HEAD",
                        one,
                        owner,
                        ArtifactApi.MAX_BODY_BYTES,
                        ArtifactApi.ADMIN,
                        this::head),
                new Route("PATCH", one, owner, body, ArtifactApi.TRANSFERS, this::patch),
                new Route(
                        "DELETE",
                        one,
                        owner,
                        ArtifactApi.MAX_BODY_BYTES,
                        ArtifactApi.ADMIN,
                        this::terminate));
    }

    private void options(HttpServerExchange exchange) {
        var headers = exchange.getResponseHeaders();
        headers.put(TUS_RESUMABLE, VERSION);
        headers.put(TUS_VERSION, VERSION);
        headers.put(TUS_EXTENSION, EXTENSIONS);
        headers.put(TUS_MAX_SIZE, maxSize);
        headers.put(TUS_CHECKSUM_ALGORITHM, "sha256");
        exchange.setStatusCode(204);
        exchange.endExchange();
    }

    private void create(HttpServerExchange exchange) {
        TusRequest request = TusRequest.of(exchange);
        if (!checkVersion(exchange, request)) {
            return;
        }
        var headers = exchange.getRequestHeaders();
        if (headers.contains(UPLOAD_DEFER_LENGTH)) {
            refuse(
                    exchange,
                    400,
                    "bad_request",
                    "Upload-Defer-Length is not supported; send Upload-Length");
            return;
        }
        long length = TusRequest.number(headers.getFirst(UPLOAD_LENGTH));
        if (length < 0) {
            refuse(
                    exchange,
                    400,
                    "bad_request",
                    "Upload-Length must be a non-negative whole number");
            return;
        }
        if (length > maxSize) {
            refuse(
                    exchange,
                    413,
                    JsonResponses.PAYLOAD_TOO_LARGE,
                    "Upload-Length " + length + " exceeds the limit of " + maxSize + " bytes");
            return;
        }
        String raw = headers.getFirst(UPLOAD_METADATA);
        Map<String, String> metadata;
        try {
            metadata = TusRequest.metadata(raw);
            if (metadata.containsKey("digest")) {
                Digest.parse(metadata.get("digest"));
            }
        } catch (IllegalArgumentException e) {
            refuse(exchange, 400, "bad_request", e.getMessage());
            return;
        }
        if (request.hasBody() && !OFFSET_STREAM.equals(request.contentType())) {
            refuse(
                    exchange,
                    415,
                    "unsupported_media_type",
                    "a body needs Content-Type: " + OFFSET_STREAM);
            return;
        }
        Upload upload;
        try {
            upload = uploads.create(length, metadata, raw == null ? "" : raw);
        } catch (Uploads.TooMany e) {
            refuse(exchange, 429, "too_many_uploads", e.getMessage());
            return;
        } catch (IOException e) {
            Errors.send(exchange, e);
            return;
        }
        upload.tryOwn();
        exchange.getResponseHeaders().put(Headers.LOCATION, PATH + "/" + upload.id());
        LOG.info("upload {} created: {} bytes", upload.id(), length);
        owned(
                exchange,
                upload,
                () -> {
                    if (request.hasBody() && !receive(exchange, request, upload)) {
                        return;
                    }
                    answerAfterWrite(exchange, upload, 201);
                });
    }

    private void head(HttpServerExchange exchange) {
        TusRequest request = TusRequest.of(exchange);
        Upload upload = lookup(exchange, request);
        if (upload == null) {
            return;
        }
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        if (upload.offset() == upload.length() && !upload.done() && upload.tryOwn()) {
            // Finishing failed before (no leader, say): try again, as the client asks where it
            // stands.
            owned(exchange, upload, () -> answerAfterWrite(exchange, upload, 200));
            return;
        }
        describe(exchange, upload);
        exchange.setStatusCode(200);
        exchange.endExchange();
    }

    private void patch(HttpServerExchange exchange) {
        TusRequest request = TusRequest.of(exchange);
        if (!checkVersion(exchange, request)) {
            return;
        }
        if (!OFFSET_STREAM.equals(request.contentType())) {
            refuse(
                    exchange,
                    415,
                    "unsupported_media_type",
                    "a PATCH needs Content-Type: " + OFFSET_STREAM);
            return;
        }
        if (request.offset() < 0) {
            refuse(
                    exchange,
                    400,
                    "bad_request",
                    "Upload-Offset must be a non-negative whole number");
            return;
        }
        if (!request.checksumProblem().isEmpty()) {
            refuse(exchange, 400, "bad_request", request.checksumProblem());
            return;
        }
        Upload upload = lookup(exchange, request);
        if (upload == null || !own(exchange, upload)) {
            return;
        }
        owned(
                exchange,
                upload,
                () -> {
                    if (request.offset() != upload.offset()) {
                        exchange.getResponseHeaders().put(UPLOAD_OFFSET, upload.offset());
                        refuse(
                                exchange,
                                409,
                                "offset_mismatch",
                                "Upload-Offset is "
                                        + request.offset()
                                        + " but the upload is at "
                                        + upload.offset());
                        return;
                    }
                    if (upload.digest().isPresent()) {
                        answerAfterWrite(exchange, upload, 204);
                        return;
                    }
                    if (receive(exchange, request, upload)) {
                        answerAfterWrite(exchange, upload, 204);
                    }
                });
    }

    private void terminate(HttpServerExchange exchange) {
        Upload upload = lookup(exchange, TusRequest.of(exchange));
        if (upload == null || !own(exchange, upload)) {
            return;
        }
        owned(
                exchange,
                upload,
                () -> {
                    try {
                        uploads.delete(upload);
                        LOG.info("upload {} terminated", upload.id());
                        exchange.setStatusCode(204);
                        exchange.endExchange();
                    } catch (IOException e) {
                        Errors.send(exchange, e);
                    }
                });
    }

    /**
     * Runs {@code step} on a worker thread as the upload's owner. Ownership ends just before the
     * answer is committed (every change to the upload is done by then), so a client that got the
     * answer and sends its next request never finds the upload still owned by this one; should no
     * answer be committed, it ends when the step returns.
     */
    private void owned(HttpServerExchange exchange, Upload upload, Runnable step) {
        exchange.getResponseHeaders().put(TUS_RESUMABLE, VERSION);
        AtomicBoolean released = new AtomicBoolean();
        Runnable release =
                () -> {
                    if (released.compareAndSet(false, true)) {
                        upload.release();
                    }
                };
        exchange.addResponseCommitListener(committed -> release.run());
        try {
            exchange.dispatch(
                    () -> {
                        try {
                            step.run();
                        } catch (RuntimeException e) {
                            Errors.send(exchange, e);
                        } finally {
                            release.run();
                        }
                    });
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    /**
     * Reads the body into the upload at its offset and records the new offset once synced.
     *
     * @return true to answer; false when the answer was given (a refusal) or cannot be (the
     *     connection broke)
     */
    private boolean receive(HttpServerExchange exchange, TusRequest request, Upload upload) {
        long start = upload.offset();
        long room = upload.length() - start;
        if (request.contentLength() > room) {
            refuse(
                    exchange,
                    413,
                    JsonResponses.PAYLOAD_TOO_LARGE,
                    "the body's "
                            + request.contentLength()
                            + " bytes run past the upload's length of "
                            + upload.length()
                            + " (at offset "
                            + start
                            + ")");
            return false;
        }
        MessageDigest sha = request.checksum().isPresent() ? Digest.hasher() : null;
        long received = 0;
        IOException broke = null;
        boolean overrun = false;
        boolean mismatch = false;
        try (FileChannel channel = FileChannel.open(upload.data(), StandardOpenOption.WRITE)) {
            // Bytes past the offset were never recorded (a crash, a refused body): they go.
            channel.truncate(start);
            exchange.startBlocking();
            InputStream body = exchange.getInputStream();
            byte[] buffer = new byte[BUFFER_BYTES];
            try {
                for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                    if (received + n > room) {
                        overrun = true;
                        break;
                    }
                    ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
                    while (bytes.hasRemaining()) {
                        channel.write(bytes, start + received + bytes.position());
                    }
                    if (sha != null) {
                        sha.update(buffer, 0, n);
                    }
                    received += n;
                    stats.uploaded(n);
                }
                if (request.contentLength() >= 0 && received < request.contentLength()) {
                    broke =
                            new IOException(
                                    "the body ended after "
                                            + received
                                            + " of "
                                            + request.contentLength()
                                            + " bytes");
                }
            } catch (IOException e) {
                broke = e;
            }
            channel.force(true);
            mismatch =
                    sha != null
                            && broke == null
                            && !overrun
                            && !MessageDigest.isEqual(sha.digest(), request.checksum().get());
            // A checksum covers the whole body: a broken or mismatching one keeps nothing.
            if (overrun || mismatch || (sha != null && broke != null)) {
                channel.truncate(start);
                channel.force(true);
                received = 0;
            }
        } catch (IOException e) {
            Errors.send(exchange, e);
            return false;
        }
        if (received > 0) {
            try {
                upload.committed(start + received, System.currentTimeMillis());
                uploads.save(upload);
            } catch (IOException e) {
                Errors.send(exchange, e);
                return false;
            }
        }
        if (broke != null) {
            long at = upload.offset();
            String why = broke.toString();
            request.context()
                    .run(
                            () ->
                                    LOG.info(
                                            "{}: the body broke off ({}); the upload stays at offset {}",
                                            request.describe(),
                                            why,
                                            at));
            exchange.setPersistent(false);
            exchange.endExchange();
            return false;
        }
        if (overrun) {
            refuse(
                    exchange,
                    413,
                    JsonResponses.PAYLOAD_TOO_LARGE,
                    "the body runs past the upload's length of "
                            + upload.length()
                            + "; nothing of it was kept");
            return false;
        }
        if (mismatch) {
            exchange.getResponseHeaders().put(UPLOAD_OFFSET, upload.offset());
            refuse(
                    exchange,
                    460,
                    "checksum_mismatch",
                    "the body's SHA-256 is not the one in Upload-Checksum; nothing of it was kept");
            return false;
        }
        return true;
    }

    /** Finishes a complete upload if need be, then answers {@code status} with its state. */
    private void answerAfterWrite(HttpServerExchange exchange, Upload upload, int status) {
        if (upload.offset() == upload.length() && !upload.done()) {
            try {
                finish(upload);
            } catch (ArtifactException e) {
                if (e.kind() == ArtifactException.Kind.DIGEST_MISMATCH) {
                    drop(upload);
                    refuse(
                            exchange,
                            460,
                            "checksum_mismatch",
                            e.getMessage() + "; the upload was deleted");
                } else {
                    Errors.send(exchange, e);
                }
                return;
            } catch (Exception e) {
                exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
                JsonResponses.sendError(
                        exchange,
                        503,
                        JsonResponses.UNAVAILABLE,
                        "upload "
                                + upload.id()
                                + " has every byte but the cluster could not record the artifact yet ("
                                + Errors.cause(e).getMessage()
                                + "); HEAD or PATCH it again to retry");
                return;
            }
        }
        describe(exchange, upload);
        exchange.setStatusCode(status);
        exchange.endExchange();
    }

    /**
     * Moves the bytes into the store under their digest and has the cluster record it. The owner's.
     */
    private void finish(Upload upload) throws Exception {
        if (upload.digest().isEmpty()) {
            Optional<Digest> expected =
                    Optional.ofNullable(upload.metadata().get("digest")).map(Digest::parse);
            Digest digest = service.store().adopt(upload.data(), expected);
            upload.stored(digest);
            uploads.save(upload);
            LOG.info("upload {} stored as {}", upload.id(), digest);
        }
        Digest digest = upload.digest().orElseThrow();
        String reference = upload.metadata().get("reference");
        service.registerHeld(
                        digest,
                        upload.length(),
                        upload.metadata().getOrDefault("filetype", ""),
                        reference == null || reference.isEmpty() ? List.of() : List.of(reference))
                .get(REGISTER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        upload.recorded();
        uploads.save(upload);
    }

    private void drop(Upload upload) {
        try {
            uploads.delete(upload);
        } catch (IOException e) {
            LOG.warn("cannot delete upload {}: {}", upload.id(), e.toString());
        }
    }

    private void describe(HttpServerExchange exchange, Upload upload) {
        var headers = exchange.getResponseHeaders();
        headers.put(TUS_RESUMABLE, VERSION);
        headers.put(UPLOAD_OFFSET, upload.offset());
        headers.put(UPLOAD_LENGTH, upload.length());
        if (!upload.rawMetadata().isEmpty()) {
            headers.put(UPLOAD_METADATA, upload.rawMetadata());
        }
        if (!upload.done()) {
            headers.put(
                    UPLOAD_EXPIRES,
                    HTTP_DATE.format(Instant.ofEpochMilli(uploads.expiresUnixMs(upload))));
        }
        upload.digest()
                .filter(d -> upload.done())
                .ifPresent(d -> headers.put(new HttpString(ARTIFACT_HEADER), d.toString()));
    }

    private static boolean checkVersion(HttpServerExchange exchange, TusRequest request) {
        if (VERSION.equals(request.resumable())) {
            return true;
        }
        exchange.getResponseHeaders().put(TUS_VERSION, VERSION);
        refuse(
                exchange,
                412,
                "unsupported_version",
                "Tus-Resumable must be "
                        + VERSION
                        + ", got "
                        + (request.resumable() == null ? "none" : request.resumable()));
        return false;
    }

    /** The request's upload after checking its tus version; null after answering 412 or 404. */
    private Upload lookup(HttpServerExchange exchange, TusRequest request) {
        if (!checkVersion(exchange, request)) {
            return null;
        }
        Optional<Upload> found = uploads.get(request.uploadId());
        if (found.isEmpty()) {
            refuse(
                    exchange,
                    404,
                    "upload_not_found",
                    "no upload " + request.uploadId() + " (it may have expired)");
            return null;
        }
        return found.get();
    }

    /** Takes ownership of {@code upload}; false after answering 423 when another request has it. */
    private static boolean own(HttpServerExchange exchange, Upload upload) {
        if (upload.tryOwn()) {
            return true;
        }
        refuse(
                exchange,
                423,
                "upload_locked",
                "another request is using upload "
                        + upload.id()
                        + "; retry once it has ended (HEAD tells the offset)");
        return false;
    }

    private static void refuse(
            HttpServerExchange exchange, int status, String code, String message) {
        exchange.getResponseHeaders().put(TUS_RESUMABLE, VERSION);
        JsonResponses.sendError(exchange, status, code, message);
    }
}
