package io.capstan.artifacts;

import io.capstan.web.RequestContext;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One tus request's headers, read once before anything else happens (see {@link TusApi}), and the
 * parser of {@code Upload-Metadata}. Immutable.
 */
record TusRequest(
        RequestContext context,
        String uploadId,
        String resumable,
        long offset,
        String contentType,
        long contentLength,
        Optional<byte[]> checksum,
        String checksumProblem) {

    static TusRequest of(HttpServerExchange exchange) {
        var headers = exchange.getRequestHeaders();
        var id = exchange.getPathParameters().get(TusApi.ID);
        String checksum = headers.getFirst(TusApi.UPLOAD_CHECKSUM);
        Optional<byte[]> expected = Optional.empty();
        String problem = "";
        if (checksum != null) {
            String[] parts = checksum.strip().split(" ", 2);
            if (parts.length != 2 || !parts[0].equals("sha256")) {
                problem =
                        "Upload-Checksum must be 'sha256 <base64>'; sha256 is the one algorithm supported";
            } else {
                try {
                    expected = Optional.of(Base64.getDecoder().decode(parts[1].strip()));
                } catch (IllegalArgumentException e) {
                    problem = "Upload-Checksum's value is not base64";
                }
            }
        }
        return new TusRequest(
                RequestContext.of(exchange),
                id == null ? "" : id.getFirst(),
                headers.getFirst(TusApi.TUS_RESUMABLE),
                number(headers.getFirst(TusApi.UPLOAD_OFFSET)),
                headers.getFirst(Headers.CONTENT_TYPE),
                number(headers.getFirst(Headers.CONTENT_LENGTH)),
                expected,
                problem);
    }

    /** A non-negative number, -1 when absent, -2 when malformed. */
    static long number(String text) {
        if (text == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(text.strip());
            return n < 0 ? -2 : n;
        } catch (NumberFormatException e) {
            return -2;
        }
    }

    boolean hasBody() {
        return contentLength > 0 || (contentLength == -1 && contentType != null);
    }

    String describe() {
        return context.method() + " upload " + uploadId;
    }

    /**
     * Parses {@code Upload-Metadata}: comma-separated pairs of a key and its base64 value (or a key
     * alone).
     *
     * @throws IllegalArgumentException naming the pair that is malformed
     */
    static Map<String, String> metadata(String header) {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (header == null || header.isBlank()) {
            return metadata;
        }
        for (String pair : header.split(",")) {
            String[] parts = pair.strip().split(" ");
            if (parts.length > 2 || parts[0].isEmpty() || metadata.containsKey(parts[0])) {
                throw new IllegalArgumentException(
                        "Upload-Metadata pair '"
                                + pair.strip()
                                + "' is not 'key base64value' with a key of its own");
            }
            try {
                metadata.put(
                        parts[0],
                        parts.length == 1
                                ? ""
                                : new String(
                                        Base64.getDecoder().decode(parts[1]),
                                        StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "Upload-Metadata value of " + parts[0] + " is not base64");
            }
        }
        return metadata;
    }
}
