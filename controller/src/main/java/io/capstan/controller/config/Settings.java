package io.capstan.controller.config;

import io.capstan.web.WebSettings;
import java.util.Objects;

/**
 * The daemon's whole configuration: one immutable tree bound and validated at startup by
 * {@link SettingsLoader}, before any component starts. Safe to share between threads.
 *
 * @param node      identity and data directory of this member
 * @param web       the web layer ({@code capstan.web.*}, declared by the web module)
 * @param api       the etcd v3 gRPC API
 * @param lifecycle bounds on starting and stopping components
 * @param raft      cluster membership and peer transport
 */
public record Settings(
        NodeSettings node,
        WebSettings web,
        ApiSettings api,
        LifecycleSettings lifecycle,
        RaftSettings raft) {

    public Settings {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(web, "web");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(lifecycle, "lifecycle");
        Objects.requireNonNull(raft, "raft");
    }
}
