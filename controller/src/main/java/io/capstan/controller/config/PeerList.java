package io.capstan.controller.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The members of the cluster as Raft reaches them, and the rules that tie {@code
 * capstan.raft.peers} to this node's own settings.
 *
 * <p>A peer entry names a member's Raft address. With {@code capstan.raft.transport = web} that is
 * its web address, so this node's own entry must use {@code capstan.web.port}; with {@code grpc} it
 * is the address of Ratis's gRPC transport, so this node's entry must use {@code
 * capstan.raft.grpc-port}. A port of 0 (ephemeral, tests) is not compared. With no peers listed
 * this node is the only member, at {@code capstan.node.host} and the port of its transport, which
 * then must be a real port: Raft's clients dial that address.
 *
 * <p>Stateless.
 */
final class PeerList {
    static final String PEERS = "capstan.raft.peers";

    private PeerList() {}

    /** The listed entries, each parsed on its own; empty when the list (or any entry) is bad. */
    static Optional<List<PeerEntry>> listed(ConfigReader r) {
        return r.stringList(
                        PEERS,
                        "must be a list of id=host:port strings, e.g. [\"n1=10.0.0.1:7480\"]")
                .flatMap(
                        elements -> {
                            List<PeerEntry> peers = new ArrayList<>();
                            for (ConfigReader.ElementText element : elements) {
                                try {
                                    peers.add(PeerParser.parse(element.text()));
                                } catch (IllegalArgumentException e) {
                                    r.problem(
                                            element.key(),
                                            Optional.of(element.value()),
                                            e.getMessage());
                                }
                            }
                            return peers.size() == elements.size()
                                    ? Optional.of(peers)
                                    : Optional.empty();
                        });
    }

    /**
     * Ids and addresses unique; this node among the peers whenever peers are listed.
     *
     * @return whether the list passed, so that rules about this node's own entry can rely on it
     */
    static boolean checkListed(ConfigReader r, String nodeId, List<PeerEntry> listed) {
        if (listed.isEmpty()) {
            return true;
        }
        int before = r.problems().size();
        Optional<ConfigValue> list = r.valueAt(PEERS);
        Map<String, Long> byId =
                listed.stream()
                        .collect(
                                Collectors.groupingBy(
                                        PeerEntry::id, LinkedHashMap::new, Collectors.counting()));
        byId.forEach(
                (id, count) -> {
                    if (count > 1) {
                        r.problem(
                                PEERS,
                                list,
                                "peer id "
                                        + id
                                        + " is listed "
                                        + count
                                        + " times; peer ids must be unique");
                    }
                });
        Map<String, List<String>> byAddress =
                listed.stream()
                        .collect(
                                Collectors.groupingBy(
                                        PeerEntry::address,
                                        LinkedHashMap::new,
                                        Collectors.mapping(PeerEntry::id, Collectors.toList())));
        byAddress.forEach(
                (address, ids) -> {
                    if (ids.size() > 1) {
                        r.problem(
                                PEERS,
                                list,
                                "address "
                                        + address
                                        + " is listed for "
                                        + String.join(", ", ids)
                                        + "; each member needs an address of its own");
                    }
                });
        if (byId.keySet().stream().noneMatch(nodeId::equals)) {
            r.problem(
                    "capstan.node.id",
                    r.valueAt("capstan.node.id"),
                    "must be one of the peer ids in "
                            + PEERS
                            + ": "
                            + String.join(", ", byId.keySet()));
        }
        return r.problems().size() == before;
    }

    /**
     * Every member, this node included: the listed peers, or this node alone when none are listed.
     * Empty when this node's address breaks a rule (reported to {@code r}).
     *
     * @param ownPort this node's {@code capstan.web.port} or {@code capstan.raft.grpc-port}, by
     *     transport
     */
    static Optional<List<PeerEntry>> members(
            Config config,
            ConfigReader r,
            String nodeId,
            String nodeHost,
            List<PeerEntry> listed,
            ClusterSettings.Transport transport,
            int ownPort) {
        String portKey = portKey(transport);
        String transportName = transport.name().toLowerCase(Locale.ROOT);
        if (listed.isEmpty()) {
            if (ownPort == 0) {
                r.problem(
                        portKey,
                        r.valueAt(portKey),
                        "must be a port number 1..65535 while "
                                + PEERS
                                + " is empty: this node alone is then the cluster, and with capstan.raft.transport = "
                                + transportName
                                + " Raft reaches it at capstan.node.host:"
                                + portKey);
                return Optional.empty();
            }
            return Optional.of(List.of(new PeerEntry(nodeId, nodeHost, ownPort)));
        }
        for (int i = 0; i < listed.size(); i++) {
            PeerEntry own = listed.get(i);
            if (own.id().equals(nodeId) && ownPort != 0 && own.port() != ownPort) {
                ConfigValue entry = config.getList(PEERS).get(i);
                r.problem(
                        PEERS + "[" + i + "]",
                        Optional.of(entry),
                        "this node's own entry must use "
                                + portKey
                                + " ("
                                + ownPort
                                + "): with capstan.raft.transport = "
                                + transportName
                                + " a peer entry is the member's "
                                + (transport == ClusterSettings.Transport.WEB
                                        ? "web address"
                                        : "gRPC transport address"));
                return Optional.empty();
            }
        }
        return Optional.of(listed);
    }

    /** The key holding the port that carries Raft messages with {@code transport}. */
    static String portKey(ClusterSettings.Transport transport) {
        return transport == ClusterSettings.Transport.WEB
                ? "capstan.web.port"
                : "capstan.raft.grpc-port";
    }
}
