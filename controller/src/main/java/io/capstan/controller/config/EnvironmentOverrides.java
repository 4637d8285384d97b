package io.capstan.controller.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigResolver;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The environment variables that override configuration keys, and the environment that {@code
 * ${?VAR}} substitutions in configuration files see. Both read an injected map, never the process
 * environment, so tests control them completely.
 *
 * <p>A variable that is unset or blank overrides nothing: a unit file or compose file that writes
 * {@code CAPSTAN_PEERS=} means "not set".
 */
final class EnvironmentOverrides {
    /** Origin description of every value taken from the environment. */
    static final String ORIGIN_PREFIX = "environment variable ";

    private static final String PEERS = "CAPSTAN_PEERS";

    /** Variable name to the key it overrides. */
    private static final Map<String, String> KEYS = keys();

    private EnvironmentOverrides() {}

    private static Map<String, String> keys() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("CAPSTAN_NODE_ID", "capstan.node.id");
        keys.put("CAPSTAN_DATA_DIR", "capstan.node.data-dir");
        keys.put("CAPSTAN_HOST", "capstan.node.host");
        keys.put("CAPSTAN_WEB_PORT", "capstan.web.port");
        keys.put("CAPSTAN_API_PORT", "capstan.api.port");
        keys.put(PEERS, "capstan.raft.peers");
        keys.put("CAPSTAN_INITIAL_CLUSTER_STATE", "capstan.raft.initial-cluster-state");
        keys.put("CAPSTAN_LOG_FORMAT", "capstan.log.format");
        return Collections.unmodifiableMap(keys);
    }

    /** The names of the override variables set (non-blank) in {@code env}. */
    private static List<String> present(Map<String, String> env) {
        List<String> names = new ArrayList<>();
        for (String name : KEYS.keySet()) {
            String value = env.get(name);
            if (value != null && !value.isBlank()) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * A config layer holding the overrides set in {@code env}; values stay strings (the binder
     * parses them like any other value) and {@code CAPSTAN_PEERS} becomes a list by splitting on
     * commas, e.g. {@code n1=127.0.0.1:7481,n2=127.0.0.1:7482}.
     */
    static Config layer(Map<String, String> env) {
        Config layer = ConfigFactory.empty();
        for (String name : present(env)) {
            String value = env.get(name);
            String origin = ORIGIN_PREFIX + name;
            ConfigValue configValue =
                    name.equals(PEERS)
                            ? ConfigValueFactory.fromIterable(
                                    Arrays.stream(value.split(",", -1)).map(String::strip).toList(),
                                    origin)
                            : ConfigValueFactory.fromAnyRef(value.strip(), origin);
            layer = layer.withValue(KEYS.get(name), configValue);
        }
        return layer;
    }

    /** Resolve options under which {@code ${?VAR}} looks {@code VAR} up in {@code env} only. */
    static ConfigResolveOptions resolveOptions(Map<String, String> env) {
        return ConfigResolveOptions.defaults()
                .setUseSystemEnvironment(false)
                .appendResolver(new EnvResolver(Map.copyOf(env)));
    }

    /** Answers substitutions that the config itself cannot from the injected environment. */
    private record EnvResolver(Map<String, String> env) implements ConfigResolver {
        @Override
        public ConfigValue lookup(String path) {
            String value = env.get(path);
            return value == null
                    ? null
                    : ConfigValueFactory.fromAnyRef(value, ORIGIN_PREFIX + path);
        }

        @Override
        public ConfigResolver withFallback(ConfigResolver fallback) {
            ConfigResolver first = this;
            return new ConfigResolver() {
                @Override
                public ConfigValue lookup(String path) {
                    ConfigValue value = first.lookup(path);
                    return value != null ? value : fallback.lookup(path);
                }

                @Override
                public ConfigResolver withFallback(ConfigResolver next) {
                    return first.withFallback(fallback.withFallback(next));
                }
            };
        }
    }
}
