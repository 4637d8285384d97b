package io.capstan.transport;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Proves to peers that a request comes from a cluster member, and checks that proof on requests
 * that arrive. The proof is the cluster secret, sent base64-encoded in the {@value #HEADER_NAME}
 * header of every peer request, with or without TLS (see the package documentation): over cleartext
 * whoever can read the traffic can read it; over TLS it is encrypted, and with client certificates
 * required the handshake has already refused anyone without a certificate of the client CAs before
 * this check runs.
 *
 * <p>The check compares SHA-256 digests with {@link MessageDigest#isEqual}, so its time does not
 * depend on how much of a guess is right, nor on its length. Immutable and thread-safe.
 */
final class PeerAuthenticator {

    static final String HEADER_NAME = "Capstan-Peer-Secret";
    private static final HttpString HEADER = new HttpString(HEADER_NAME);

    private final String headerValue;
    private final byte[] expectedDigest;

    PeerAuthenticator(byte[] secret) {
        this.headerValue = Base64.getEncoder().encodeToString(secret);
        this.expectedDigest = sha256(headerValue);
    }

    /** What this member sends in {@value #HEADER_NAME}. */
    String headerValue() {
        return headerValue;
    }

    /** Whether the request proves it comes from a member; reads headers only. */
    boolean admits(HttpServerExchange exchange) {
        String presented = exchange.getRequestHeaders().getFirst(HEADER);
        return presented != null && MessageDigest.isEqual(sha256(presented), expectedDigest);
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest(value.getBytes(StandardCharsets.ISO_8859_1));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
