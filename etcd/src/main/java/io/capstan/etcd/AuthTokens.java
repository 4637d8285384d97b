package io.capstan.etcd;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.google.protobuf.ByteString;
import io.capstan.raft.proto.Caller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The tokens Authenticate hands out: JSON Web Tokens signed with HMAC-SHA256 under the cluster's
 * token key, carrying etcd's claims ({@code username}, {@code revision}: here the revision of the
 * user's password) and an expiry. Every member holds the same key (it is replicated auth state), so
 * a token from one member is accepted by all, without a write per login; a new password, a deleted
 * user or a new key (auth disabled and enabled again) ends earlier tokens. Immutable.
 */
final class AuthTokens {
    private static final String USERNAME = "username";
    private static final String REVISION = "revision";

    private final Duration ttl;
    private final Clock clock;

    AuthTokens(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    String issue(String user, long passwordRevision, ByteString key) {
        Instant now = clock.instant();
        return JWT.create()
                .withClaim(USERNAME, user)
                .withClaim(REVISION, passwordRevision)
                .withIssuedAt(now)
                .withExpiresAt(now.plus(ttl))
                .sign(Algorithm.HMAC256(key.toByteArray()));
    }

    /** The caller {@code token} names, if it is signed with {@code key} and not expired. */
    Optional<Caller> verify(String token, ByteString key) {
        if (key.isEmpty()) {
            return Optional.empty();
        }
        JWTVerifier verifier =
                ((JWTVerifier.BaseVerification)
                                JWT.require(Algorithm.HMAC256(key.toByteArray()))
                                        .withClaimPresence(USERNAME)
                                        .withClaimPresence(REVISION)
                                        .acceptLeeway(0))
                        .build(clock);
        try {
            DecodedJWT decoded = verifier.verify(token);
            if (decoded.getExpiresAtAsInstant() == null) {
                return Optional.empty();
            }
            String user = decoded.getClaim(USERNAME).asString();
            Long revision = decoded.getClaim(REVISION).asLong();
            if (user == null || revision == null) {
                return Optional.empty();
            }
            return Optional.of(
                    Caller.newBuilder().setUser(user).setPasswordRevision(revision).build());
        } catch (JWTVerificationException e) {
            return Optional.empty();
        }
    }
}
