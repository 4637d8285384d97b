package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.controller.config.SettingsLoader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The member a disaster-recovery command works on, named as {@code capstan serve} names it: its
 * configuration file and environment, with the data directory, member id and peer list given on the
 * command line taking precedence (they become the {@code CAPSTAN_*} overrides of the same keys).
 * Filled in by picocli; used on the command's thread.
 */
final class NodeOptions {

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "The member's configuration file.")
    Path config;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description = "The member's data directory (capstan.node.data-dir).")
    Path dataDir;

    @Option(names = "--name", paramLabel = "ID", description = "The member's id (capstan.node.id).")
    String name;

    @Option(
            names = "--peers",
            paramLabel = "LIST",
            description = "The new cluster's members, id=host:port,... (capstan.raft.peers).")
    String peers;

    /**
     * The member's settings with these options applied; a bad value fails as {@code serve} fails.
     */
    Settings load() {
        return load(Optional.ofNullable(peers));
    }

    /** As {@link #load()}, with {@code peerList} as the peer list when present. */
    Settings load(Optional<String> peerList) {
        Map<String, String> env = new HashMap<>(System.getenv());
        if (dataDir != null) {
            env.put("CAPSTAN_DATA_DIR", dataDir.toAbsolutePath().toString());
        }
        if (name != null) {
            env.put("CAPSTAN_NODE_ID", name);
        }
        peerList.ifPresent(list -> env.put("CAPSTAN_PEERS", list));
        return SettingsLoader.load(Optional.ofNullable(config), env);
    }
}
