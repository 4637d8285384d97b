package io.capstan.controller.config;

import io.capstan.etcd.AuthSettings;
import io.capstan.etcd.SpaceQuotaSettings;
import io.capstan.web.AdmissionSettings;
import java.util.Objects;

/**
 * The etcd v3 gRPC API listener, bound from {@code capstan.api.*}.
 *
 * @param host address to bind; defaults to the node's host
 * @param port port to bind; 0 picks an ephemeral port (tests)
 * @param maxWatchesPerStream watches one Watch stream may hold at once (at least 1)
 * @param auth etcd Auth's tokens, password hashes and login rate, from {@code capstan.api.auth.*}
 * @param unaryAdmission the admission budget of calls that answer once: {@code
 *     capstan.api.admission.grpc}
 * @param streamAdmission the admission budget of calls that stay open (streams, and the waits of
 *     Lock and Campaign): {@code capstan.api.admission.grpc-streams}
 * @param space when the member raises etcd's NOSPACE alarm: {@code capstan.api.nospace.*}
 */
public record ApiSettings(
        String host,
        int port,
        int maxWatchesPerStream,
        AuthSettings auth,
        AdmissionSettings unaryAdmission,
        AdmissionSettings streamAdmission,
        SpaceQuotaSettings space) {

    public ApiSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(unaryAdmission, "unaryAdmission");
        Objects.requireNonNull(streamAdmission, "streamAdmission");
        Objects.requireNonNull(space, "space");
        if (maxWatchesPerStream < 1) {
            throw new IllegalArgumentException(
                    "maxWatchesPerStream must be at least 1, was " + maxWatchesPerStream);
        }
    }
}
