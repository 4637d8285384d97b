package io.capstan.controller.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * This member's identity, bound from {@code capstan.node.*}.
 *
 * @param id member id, {@code [a-z0-9-]+}; also its Raft peer id
 * @param dataDir directory holding everything the node keeps (Raft log, snapshots, artifacts); a
 *     relative path is relative to the process's working directory
 * @param host address peers and clients reach this node at
 */
public record NodeSettings(String id, Path dataDir, String host) {

    public NodeSettings {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(host, "host");
    }
}
