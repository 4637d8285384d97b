package io.capstan.controller.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import io.capstan.artifacts.ArtifactSettings;
import io.capstan.controller.admin.AdminSettings;
import io.capstan.controller.admin.AdminToken;
import io.capstan.etcd.AuthSettings;
import io.capstan.etcd.GrpcAdmission;
import io.capstan.etcd.SpaceQuotaSettings;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftSettings;
import io.capstan.transport.TransportSettings;
import io.capstan.web.AdmissionSettings;
import io.capstan.web.TlsSettings;
import io.capstan.web.WebSettings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Binds one resolved config into {@link Settings}, in four passes that all report into one {@link
 * ConfigReader}: {@code checkValid} against the reference (shapes), unknown keys under {@code
 * capstan.}, typed reads of every key (and of the files keys name: secret, token, TLS), then rules
 * that span keys (peers, ports, the cluster secret, timeouts). Records are built only when no pass
 * found a problem; a refusal by a module's own record is reported as a problem too.
 *
 * <p>Stateless; each call owns its reader.
 */
final class SettingsBinder {
    private static final String ROOT = "capstan";
    private static final String NODE_HOST = "capstan.node.host";
    private static final String PORT = "must be a port number 0..65535";
    private static final String PATH = "must be a file system path, e.g. ./data/n1";
    private static final String UUID_FORM =
            "must be a UUID, e.g. 58158864-8ad7-4ab9-8926-1570374bf016";
    private static final Pattern CANONICAL_UUID =
            Pattern.compile(
                    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    // A typo this close to a known key gets a suggestion.
    private static final int SUGGESTION_DISTANCE = 3;

    /** Below the node's data directory, the raft module's own. */
    private static final String RAFT_DIR = "raft";

    static final String FAULT_INJECTION = "capstan.transport.fault-injection";

    /**
     * A switch's words; HOCON reads a bare on/off as a boolean, which arrives here as true/false.
     */
    private static final Map<String, Boolean> ON_OFF =
            Map.of("on", true, "off", false, "true", true, "false", false);

    private SettingsBinder() {}

    /**
     * @param config the merged, resolved configuration
     * @param reference every module's reference.conf, resolved: the set of known keys and their
     *     shapes
     * @param random source of the cluster secret when no secret file is configured
     * @throws SettingsException listing every problem found
     */
    static Settings bind(Config config, Config reference, SecureRandom random) {
        ConfigReader r = new ConfigReader(config);
        checkShapes(config, reference, r);
        checkUnknownKeys(config, reference, r);

        Optional<String> nodeId = r.string("capstan.node.id", Peer::isValidId, Peer.ID_RULE);
        Optional<Path> dataDir = path(r, "capstan.node.data-dir");
        Optional<String> nodeHost = host(r, NODE_HOST);

        Optional<String> webHost = inheritedHost(config, r, "capstan.web.host", nodeHost);
        Optional<Integer> webPort = r.integer("capstan.web.port", 0, 65535, PORT);
        Optional<Integer> ioThreads =
                r.integer("capstan.web.io-threads", 1, 1024, "must be an integer 1..1024");
        Optional<Integer> workerThreads =
                r.integer("capstan.web.worker-threads", 1, 65536, "must be an integer 1..65536");
        Optional<Long> maxBody =
                r.bytes(
                        "capstan.web.max-body-bytes",
                        1,
                        Long.MAX_VALUE,
                        "must be a positive size, e.g. 2MiB");
        Optional<Long> maxHeader =
                r.bytes(
                        "capstan.web.max-header-bytes",
                        1,
                        Integer.MAX_VALUE,
                        "must be a positive size below 2GiB, e.g. 64KiB");
        Optional<Duration> parseTimeout = r.duration("capstan.web.request-parse-timeout", false);
        Optional<Duration> idleTimeout = r.duration("capstan.web.idle-timeout", false);
        Optional<Duration> drainTimeout = r.duration("capstan.web.drain-timeout", true);
        Optional<Map<String, AdmissionSettings>> webAdmission =
                AdmissionKeys.read(r, reference, "capstan.web.admission");

        Optional<String> apiHost = inheritedHost(config, r, "capstan.api.host", nodeHost);
        Optional<Integer> apiPort = r.integer("capstan.api.port", 0, 65535, PORT);
        Optional<Integer> maxWatchesPerStream =
                r.integer(
                        "capstan.api.max-watches-per-stream",
                        1,
                        1_000_000,
                        "must be an integer 1..1000000");
        Optional<Map<String, AdmissionSettings>> apiAdmission =
                AdmissionKeys.read(r, reference, "capstan.api.admission");
        Optional<Duration> tokenTtl = r.duration("capstan.api.auth.token-ttl", false);
        Optional<Integer> bcryptCost =
                r.integer("capstan.api.auth.bcrypt-cost", 4, 31, "must be an integer 4..31");
        Optional<Integer> authenticateRate =
                r.integer(
                        "capstan.api.auth.authenticate-per-second",
                        1,
                        1_000_000,
                        "must be an integer 1..1000000");
        Optional<Long> minFreeSpace =
                r.bytes(
                        "capstan.api.nospace.min-free",
                        0,
                        Long.MAX_VALUE,
                        "must be a size, e.g. 128MiB (0 turns the quota off)");
        Optional<Duration> spaceCheckInterval =
                r.duration("capstan.api.nospace.check-interval", false);
        Optional<LogSettings.Format> logFormat =
                r.string(
                                "capstan.log.format",
                                t -> t.equals("text") || t.equals("json"),
                                "must be one of: text, json")
                        .map(t -> LogSettings.Format.valueOf(t.toUpperCase(Locale.ROOT)));

        Optional<Duration> startTimeout = r.duration("capstan.lifecycle.start-timeout", false);
        Optional<Duration> stopTimeout = r.duration("capstan.lifecycle.stop-timeout", false);

        Optional<List<PeerEntry>> listedPeers = PeerList.listed(r);
        Optional<ClusterSettings.Transport> transport =
                r.string(
                                "capstan.raft.transport",
                                t -> t.equals("web") || t.equals("grpc"),
                                "must be one of: web, grpc")
                        .map(t -> ClusterSettings.Transport.valueOf(t.toUpperCase(Locale.ROOT)));
        Optional<Boolean> joinExisting =
                r.string(
                                "capstan.raft.initial-cluster-state",
                                t -> t.equals("new") || t.equals("existing"),
                                "must be one of: new, existing")
                        .map(t -> t.equals("existing"));
        Optional<UUID> groupId =
                r.string(
                                "capstan.raft.group-id",
                                t -> CANONICAL_UUID.matcher(t).matches(),
                                UUID_FORM)
                        .map(UUID::fromString);
        Optional<Optional<Path>> secretFile = optionalPath(r, ClusterSecret.KEY);
        Optional<Integer> grpcPort = r.integer("capstan.raft.grpc-port", 0, 65535, PORT);
        Optional<RaftTuning> raftTuning = RaftTuning.read(r);
        Optional<TransportTuning> transportTuning = TransportTuning.read(r, raftTuning);
        Optional<Boolean> faultInjection =
                r.string(FAULT_INJECTION, t -> ON_OFF.containsKey(t), "must be on or off")
                        .map(ON_OFF::get);
        Optional<byte[]> secret =
                secretFile.flatMap(file -> file.flatMap(f -> ClusterSecret.read(r, f)));
        Optional<Duration> maxLeaderless = r.duration("capstan.raft.max-leaderless", false);
        Optional<Optional<Path>> tokenFile = optionalPath(r, AdminTokenFile.KEY);
        Optional<Optional<AdminToken>> adminToken =
                tokenFile.map(file -> file.flatMap(f -> AdminTokenFile.read(r, f)));
        Optional<ArtifactTuning> artifactTuning = ArtifactTuning.read(r);
        Optional<Optional<TlsSettings>> tls =
                TlsFiles.read(
                        r,
                        optionalPath(r, TlsFiles.CERT),
                        optionalPath(r, TlsFiles.KEY),
                        optionalPath(r, TlsFiles.CLIENT_CA));

        // Cross-key rules, each run only when the keys it reads bound.
        Optional<List<PeerEntry>> members =
                members(config, r, nodeId, nodeHost, listedPeers, transport, webPort, grpcPort);
        checkPortClash(config, r, webPort, apiPort, transport, grpcPort);
        if (faultInjection.orElse(false)
                && transport.orElse(null) == ClusterSettings.Transport.GRPC) {
            r.problem(
                    FAULT_INJECTION,
                    r.valueAt(FAULT_INJECTION),
                    "can be on only with capstan.raft.transport = web:"
                            + " the fault seam is the web transport's");
        }
        if (members.isPresent()
                && webHost.isPresent()
                && secretFile.isPresent()
                && secretFile.get().isEmpty()) {
            checkSecretOptional(r, members.get(), webHost.get());
        }
        if (webHost.isPresent() && tokenFile.isPresent() && tokenFile.get().isEmpty()) {
            AdminTokenFile.checkOptional(r, webHost.get());
        }

        if (!r.problems().isEmpty()) {
            secret.ifPresent(s -> Arrays.fill(s, (byte) 0));
            throw new SettingsException(r.problems());
        }
        List<Problem> refused = new ArrayList<>();
        Optional<WebSettings> web =
                build(
                        refused,
                        () ->
                                new WebSettings(
                                        webHost.orElseThrow(),
                                        webPort.orElseThrow(),
                                        ioThreads.orElseThrow(),
                                        workerThreads.orElseThrow(),
                                        maxBody.orElseThrow(),
                                        Math.toIntExact(maxHeader.orElseThrow()),
                                        parseTimeout.orElseThrow(),
                                        idleTimeout.orElseThrow(),
                                        drainTimeout.orElseThrow(),
                                        webAdmission.orElseThrow()),
                        e -> Rejections.problem("capstan.web", Map.of(), e));
        Optional<ApiSettings> api =
                build(
                        refused,
                        () ->
                                new ApiSettings(
                                        apiHost.orElseThrow(),
                                        apiPort.orElseThrow(),
                                        maxWatchesPerStream.orElseThrow(),
                                        new AuthSettings(
                                                tokenTtl.orElseThrow(),
                                                bcryptCost.orElseThrow(),
                                                authenticateRate.orElseThrow()),
                                        apiAdmission.orElseThrow().get(GrpcAdmission.UNARY),
                                        apiAdmission.orElseThrow().get(GrpcAdmission.STREAMS),
                                        new SpaceQuotaSettings(
                                                minFreeSpace.orElseThrow(),
                                                spaceCheckInterval.orElseThrow())),
                        e ->
                                Rejections.problem(
                                        "capstan.api",
                                        Map.of(
                                                "checkInterval",
                                                "capstan.api.nospace.check-interval",
                                                "tokenTtl",
                                                "capstan.api.auth.token-ttl"),
                                        e));
        Optional<RaftSettings> raft =
                build(
                        refused,
                        () ->
                                raftTuning
                                        .orElseThrow()
                                        .settings(
                                                nodeId.orElseThrow(),
                                                members.orElseThrow(),
                                                groupId.orElseThrow(),
                                                dataDir.orElseThrow().resolve(RAFT_DIR),
                                                joinExisting.orElseThrow()),
                        e -> Rejections.problem("capstan.raft", RaftTuning.KEYS_BY_NAME, e));
        Optional<ArtifactSettings> artifacts =
                build(
                        refused,
                        () -> artifactTuning.orElseThrow().settings(dataDir.orElseThrow()),
                        e ->
                                Rejections.problem(
                                        "capstan.artifacts", ArtifactTuning.KEYS_BY_NAME, e));
        // Only a node alone on loopback gets here without a file (checkSecretOptional).
        byte[] secretBytes = secret.orElseGet(() -> ClusterSecret.ephemeral(random));
        Optional<TransportSettings> transportSettings =
                build(
                        refused,
                        () -> transportTuning.orElseThrow().settings(secretBytes),
                        e ->
                                Rejections.problem(
                                        "capstan.transport", TransportTuning.KEYS_BY_NAME, e));
        // TransportSettings keeps a copy of its own.
        Arrays.fill(secretBytes, (byte) 0);
        if (!refused.isEmpty()) {
            throw new SettingsException(refused);
        }
        return new Settings(
                new NodeSettings(
                        nodeId.orElseThrow(), dataDir.orElseThrow(), nodeHost.orElseThrow()),
                web.orElseThrow(),
                api.orElseThrow(),
                new LifecycleSettings(startTimeout.orElseThrow(), stopTimeout.orElseThrow()),
                new ClusterSettings(
                        members.orElseThrow(),
                        transport.orElseThrow(),
                        groupId.orElseThrow(),
                        secretFile.orElseThrow(),
                        grpcPort.orElseThrow()),
                raft.orElseThrow(),
                transportSettings.orElseThrow(),
                new LogSettings(logFormat.orElseThrow()),
                new AdminSettings(
                        adminToken.orElseThrow(),
                        maxLeaderless.orElseThrow(),
                        faultInjection.orElseThrow()),
                tls.orElseThrow(),
                artifacts.orElseThrow());
    }

    /**
     * A module's settings record; a module may hold rules of its own, and a refusal is reported
     * like any other problem instead of escaping as an unexplained exception.
     */
    private static <T> Optional<T> build(
            List<Problem> refused,
            Supplier<T> record,
            Function<IllegalArgumentException, Problem> report) {
        try {
            return Optional.of(record.get());
        } catch (IllegalArgumentException e) {
            refused.add(report.apply(e));
            return Optional.empty();
        }
    }

    /** checkValid finds values of the wrong shape (a string where a list or block belongs). */
    private static void checkShapes(Config config, Config reference, ConfigReader r) {
        try {
            config.checkValid(reference, ROOT);
        } catch (ConfigException.ValidationFailed e) {
            for (ConfigException.ValidationProblem p : e.problems()) {
                Optional<ConfigValue> actual =
                        config.hasPath(p.path())
                                ? Optional.of(config.getValue(p.path()))
                                : Optional.empty();
                // checkValid walks the reference, so every path it reports exists there.
                r.problem(p.path(), actual, "must be " + shape(reference.getValue(p.path())));
            }
        }
    }

    private static String shape(ConfigValue v) {
        return switch (v.valueType()) {
            case OBJECT ->
                    "a block of settings { "
                            + String.join(", ", new TreeSet<>(((ConfigObject) v).keySet()))
                            + " }";
            case LIST -> "a list [ ... ]";
            case NUMBER -> "a number";
            case BOOLEAN -> "true or false";
            default -> "a string";
        };
    }

    /**
     * A key no module declares is most likely a typo, which would otherwise be ignored in silence.
     */
    private static void checkUnknownKeys(Config config, Config reference, ConfigReader r) {
        List<String> known = reference.entrySet().stream().map(Map.Entry::getKey).sorted().toList();
        Map<String, ConfigValue> values = new HashMap<>();
        config.entrySet().forEach(e -> values.put(e.getKey(), e.getValue()));
        values.keySet().stream()
                .filter(key -> key.startsWith(ROOT + "."))
                .filter(key -> !reference.hasPathOrNull(key) && !r.isReported(key))
                .sorted()
                .forEach(
                        key ->
                                r.problem(
                                        key,
                                        Optional.of(values.get(key)),
                                        "unknown key" + suggestion(key, known)));
    }

    private static String suggestion(String key, List<String> known) {
        return known.stream()
                .filter(k -> distance(key, k) <= SUGGESTION_DISTANCE)
                .min(Comparator.comparingInt(k -> distance(key, k)))
                .map(k -> "; did you mean " + k + "?")
                .orElse("; no module declares it");
    }

    /** Levenshtein distance, two rows at a time. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static Optional<String> host(ConfigReader r, String path) {
        return r.string(path, Hosts::isValid, Hosts.ALLOWED);
    }

    private static Optional<Path> path(ConfigReader r, String key) {
        return r.string(key, t -> !t.isBlank() && isPath(t), PATH).map(Path::of);
    }

    /**
     * A host that defaults to the node's. When it still holds the node's bad value, the node host's
     * problem already says everything; repeating it per listener would only add noise.
     */
    private static Optional<String> inheritedHost(
            Config config, ConfigReader r, String path, Optional<String> nodeHost) {
        if (nodeHost.isEmpty()
                && config.hasPath(path)
                && config.hasPath(NODE_HOST)
                && config.getValue(path).origin().equals(config.getValue(NODE_HOST).origin())) {
            return Optional.empty();
        }
        return host(r, path);
    }

    /** Like {@link #path} but "" binds to an empty Optional: nothing configured. */
    private static Optional<Optional<Path>> optionalPath(ConfigReader r, String key) {
        return r.string(
                        key,
                        t -> t.isEmpty() || isPath(t),
                        "must be \"\" (none) or a file system path, e.g. /etc/capstan/secret")
                .map(t -> t.isEmpty() ? Optional.empty() : Optional.of(Path.of(t)));
    }

    private static boolean isPath(String text) {
        try {
            Path.of(text);
            return true;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /** Peer list rules, and every member when the keys they read bound (see {@link PeerList}). */
    private static Optional<List<PeerEntry>> members(
            Config config,
            ConfigReader r,
            Optional<String> nodeId,
            Optional<String> nodeHost,
            Optional<List<PeerEntry>> listed,
            Optional<ClusterSettings.Transport> transport,
            Optional<Integer> webPort,
            Optional<Integer> grpcPort) {
        if (listed.isEmpty() || nodeId.isEmpty()) {
            return Optional.empty();
        }
        boolean consistent = PeerList.checkListed(r, nodeId.get(), listed.get());
        if (!consistent
                || nodeHost.isEmpty()
                || transport.isEmpty()
                || webPort.isEmpty()
                || grpcPort.isEmpty()) {
            return Optional.empty();
        }
        int ownPort =
                transport.get() == ClusterSettings.Transport.WEB ? webPort.get() : grpcPort.get();
        return PeerList.members(
                config, r, nodeId.get(), nodeHost.get(), listed.get(), transport.get(), ownPort);
    }

    /**
     * Two listeners of this node on one port would fail at start; say so before anything starts.
     */
    private static void checkPortClash(
            Config config,
            ConfigReader r,
            Optional<Integer> webPort,
            Optional<Integer> apiPort,
            Optional<ClusterSettings.Transport> transport,
            Optional<Integer> grpcPort) {
        if (webPort.isEmpty() || apiPort.isEmpty()) {
            return;
        }
        int web = webPort.get();
        int api = apiPort.get();
        if (api != 0 && api == web) {
            r.problem(
                    "capstan.api.port",
                    Optional.of(config.getValue("capstan.api.port")),
                    "must differ from capstan.web.port (" + web + ")");
        }
        if (transport.orElse(null) == ClusterSettings.Transport.GRPC
                && grpcPort.isPresent()
                && grpcPort.get() != 0
                && (grpcPort.get() == web || grpcPort.get() == api)) {
            r.problem(
                    "capstan.raft.grpc-port",
                    Optional.of(config.getValue("capstan.raft.grpc-port")),
                    "must differ from capstan.web.port ("
                            + web
                            + ") and capstan.api.port ("
                            + api
                            + ")");
        }
    }

    /**
     * Without a secret anything that reaches the web port could inject Raft messages, so it may be
     * left out only when nothing else can reach it: this node alone, bound and advertised on
     * loopback.
     */
    private static void checkSecretOptional(ConfigReader r, List<PeerEntry> peers, String webHost) {
        boolean alone = peers.size() == 1;
        boolean loopback =
                Hosts.isLoopback(webHost)
                        && peers.stream().allMatch(p -> Hosts.isLoopback(p.host()));
        if (!alone || !loopback) {
            r.problem(
                    ClusterSecret.KEY,
                    r.valueAt(ClusterSecret.KEY),
                    "must name the cluster secret file; only a single-node cluster on loopback may run without one"
                            + " (here: "
                            + peers.size()
                            + " peer(s), capstan.web.host = "
                            + webHost
                            + ")");
        }
    }
}
