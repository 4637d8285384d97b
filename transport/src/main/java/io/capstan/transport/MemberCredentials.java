package io.capstan.transport;

import io.undertow.server.HttpServerExchange;

/**
 * The cluster secret as other modules use it for member-to-member requests on the web port that are
 * not Raft messages (artifact bytes): the header every member sends, and the check that a request
 * carries it, exactly as the peer routes check it ({@link PeerAuthenticator}: constant time,
 * headers only). Immutable and thread-safe.
 */
public final class MemberCredentials {
    private final PeerAuthenticator authenticator;

    private MemberCredentials(PeerAuthenticator authenticator) {
        this.authenticator = authenticator;
    }

    /** The credentials of the cluster whose transport runs with {@code settings}. */
    public static MemberCredentials of(TransportSettings settings) {
        return new MemberCredentials(new PeerAuthenticator(settings.secret()));
    }

    /** The header a member's request carries. */
    public String headerName() {
        return PeerAuthenticator.HEADER_NAME;
    }

    /** What this member sends in {@link #headerName()}. */
    public String headerValue() {
        return authenticator.headerValue();
    }

    /** Whether the request comes from a member of this cluster; reads headers only. */
    public boolean admits(HttpServerExchange exchange) {
        return authenticator.admits(exchange);
    }
}
