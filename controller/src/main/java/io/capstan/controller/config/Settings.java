package io.capstan.controller.config;

import io.capstan.artifacts.ArtifactSettings;
import io.capstan.controller.admin.AdminSettings;
import io.capstan.raft.RaftSettings;
import io.capstan.transport.TransportSettings;
import io.capstan.web.TlsSettings;
import io.capstan.web.WebSettings;
import java.util.Objects;
import java.util.Optional;

/**
 * The daemon's whole configuration: one immutable tree bound and validated at startup by {@link
 * SettingsLoader}, before any component starts. Safe to share between threads. {@link #toString()}
 * never shows the cluster secret, the admin token or the TLS key.
 *
 * @param node identity and data directory of this member
 * @param web the web layer ({@code capstan.web.*}, declared by the web module)
 * @param api the etcd v3 gRPC API
 * @param lifecycle bounds on starting and stopping components
 * @param cluster cluster membership and peer transport, as configured
 * @param raft what the raft module runs with: this node's id, the members as Raft peers, the group
 *     id, {@code <data-dir>/raft} and the Raft tuning keys
 * @param transport the web peer transport: the cluster secret and {@code capstan.transport.*}
 * @param log how the daemon logs ({@code capstan.log.*})
 * @param admin the admin endpoints' token ({@code capstan.admin.*}) and readiness's {@code
 *     capstan.raft.max-leaderless}
 * @param tls TLS on the web and api ports ({@code capstan.tls.*}); empty: cleartext
 * @param artifacts the artifact store, fetches and uploads ({@code capstan.artifacts.*}), in {@code
 *     <data-dir>/artifacts}
 */
public record Settings(
        NodeSettings node,
        WebSettings web,
        ApiSettings api,
        LifecycleSettings lifecycle,
        ClusterSettings cluster,
        RaftSettings raft,
        TransportSettings transport,
        LogSettings log,
        AdminSettings admin,
        Optional<TlsSettings> tls,
        ArtifactSettings artifacts) {

    public Settings {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(web, "web");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(lifecycle, "lifecycle");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(raft, "raft");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(artifacts, "artifacts");
    }
}
