package io.capstan.controller.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads the daemon's configuration and binds it into {@link Settings}, the way lightbend's
 * simple-lib does: load, {@code checkValid} against the reference, bind.
 *
 * <p>Layers, later ones winning:
 *
 * <ol>
 *   <li>every module's {@code reference.conf} on the class path (all defaults);
 *   <li>{@code capstan.web.host = ${capstan.node.host}}: the web layer binds where the node lives
 *       unless told otherwise;
 *   <li>the operator's {@code --config} file, if given;
 *   <li>environment overrides, which win even over keys the file sets: {@code CAPSTAN_NODE_ID}
 *       (capstan.node.id), {@code CAPSTAN_DATA_DIR} (capstan.node.data-dir), {@code CAPSTAN_HOST}
 *       (capstan.node.host), {@code CAPSTAN_WEB_PORT} (capstan.web.port), {@code CAPSTAN_API_PORT}
 *       (capstan.api.port), {@code CAPSTAN_PEERS} (capstan.raft.peers, comma separated: {@code
 *       n1=127.0.0.1:7481,n2=127.0.0.1:7482}). Unset or blank variables override nothing.
 * </ol>
 *
 * Substitutions resolve over the merged tree, so a default such as {@code data-dir =
 * "./data/"${capstan.node.id}} follows an overridden id; {@code ${?VAR}} reads the given
 * environment, never the process's. JVM system properties are not consulted.
 *
 * <p>The cluster secret is read from {@code capstan.raft.secret-file} here too, and the admin token
 * from {@code capstan.admin.token-file}, so a missing or bad secret or token stops the daemon
 * before anything starts. A node that may run without one (alone, on loopback) gets 32 random bytes
 * instead, which nothing else knows.
 *
 * <p>Stateless and thread-safe; {@link #load} touches the file system only to read the file and the
 * secret file, and logs nothing: it runs before the node id that every log line carries is known.
 */
public final class SettingsLoader {
    private static final Config WEB_HOST_DEFAULT =
            ConfigFactory.parseString(
                    "capstan.web.host = ${capstan.node.host}",
                    ConfigParseOptions.defaults()
                            .setOriginDescription("default of capstan.web.host"));

    private SettingsLoader() {}

    /**
     * Loads and binds the configuration.
     *
     * @param configFile the operator's HOCON file, if any; it must exist and be readable
     * @param env the environment to take overrides and {@code ${?VAR}} values from
     * @return the bound settings
     * @throws SettingsException listing every problem found: a file that cannot be read or parsed
     *     (then alone, since nothing after it can be trusted), otherwise every bad, missing or
     *     unknown key, and an unreadable or badly sized secret file, at once
     */
    public static Settings load(Optional<Path> configFile, Map<String, String> env) {
        Config file = configFile.map(SettingsLoader::parseFile).orElse(ConfigFactory.empty());
        Config reference =
                ConfigFactory.defaultReferenceUnresolved(SettingsLoader.class.getClassLoader());
        ConfigResolveOptions options = EnvironmentOverrides.resolveOptions(env);
        Config merged =
                EnvironmentOverrides.layer(env)
                        .withFallback(file)
                        .withFallback(WEB_HOST_DEFAULT)
                        .withFallback(reference);
        Config resolved;
        try {
            resolved = merged.resolve(options);
        } catch (ConfigException e) {
            throw new SettingsException(
                    List.of(new Problem("substitution", Optional.empty(), e.getMessage())));
        }
        return SettingsBinder.bind(resolved, reference.resolve(options), new SecureRandom());
    }

    private static Config parseFile(Path path) {
        if (!Files.exists(path)) {
            throw fileProblem(path, "no such file");
        }
        if (!Files.isRegularFile(path)) {
            throw fileProblem(path, "not a regular file");
        }
        if (!Files.isReadable(path)) {
            throw fileProblem(path, "not readable");
        }
        try {
            return ConfigFactory.parseFile(
                    path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw fileProblem(path, "cannot be parsed: " + e.getMessage());
        }
    }

    private static SettingsException fileProblem(Path path, String message) {
        return new SettingsException(
                List.of(new Problem("--config", Optional.of(path.toString()), message)));
    }
}
