package io.capstan.controller.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Typed reads from one resolved config that record a {@link Problem} instead of throwing, so that
 * one pass finds every bad value. A read that fails returns empty.
 *
 * <p>Mutable: one instance serves one load, on the thread that runs it.
 */
final class ConfigReader {
    /**
     * Longest duration accepted: 24 days fits the int milliseconds that Undertow's options take.
     */
    private static final Duration MAX_DURATION = Duration.ofDays(24);

    private final Config config;
    private final List<Problem> problems = new ArrayList<>();
    // Paths already reported; reads at or beneath them stay silent rather than repeat the news.
    private final Set<String> reported = new HashSet<>();

    ConfigReader(Config config) {
        this.config = config;
    }

    /** Every problem recorded so far, in order. */
    List<Problem> problems() {
        return List.copyOf(problems);
    }

    /** Records a problem with the value at {@code key} (if any) and where that value came from. */
    void problem(String key, Optional<ConfigValue> value, String allowed) {
        reported.add(key);
        problems.add(
                new Problem(
                        key,
                        value.map(ConfigReader::render),
                        allowed + value.map(ConfigReader::where).orElse("")));
    }

    /** The value at {@code path} as it stands, for a problem about a key that already bound. */
    Optional<ConfigValue> valueAt(String path) {
        return config.hasPath(path) ? Optional.of(config.getValue(path)) : Optional.empty();
    }

    boolean isReported(String path) {
        for (String key : reported) {
            if (path.equals(key) || path.startsWith(key + ".") || path.startsWith(key + "[")) {
                return true;
            }
        }
        return false;
    }

    /** The value at {@code path}; a missing or null value is a problem. */
    Optional<ConfigValue> value(String path, String allowed) {
        if (isReported(path)) {
            return Optional.empty();
        }
        if (!config.hasPath(path)) {
            problem(path, Optional.empty(), "missing; " + allowed);
            return Optional.empty();
        }
        return Optional.of(config.getValue(path));
    }

    /**
     * A string that {@code valid} accepts (a bare number or boolean counts, as HOCON writes them
     * unquoted); anything else is a problem stating {@code allowed}.
     */
    Optional<String> string(String path, Predicate<String> valid, String allowed) {
        return value(path, allowed)
                .flatMap(
                        v ->
                                scalarText(path, v, allowed)
                                        .filter(
                                                text -> {
                                                    if (valid.test(text)) {
                                                        return true;
                                                    }
                                                    problem(path, Optional.of(v), allowed);
                                                    return false;
                                                }));
    }

    /** A whole number in {@code min..max}; fractions are refused rather than truncated. */
    Optional<Integer> integer(String path, int min, int max, String allowed) {
        return whole(path, min, max, allowed).map(Long::intValue);
    }

    /** Like {@link #integer} for counts that may exceed an int. */
    Optional<Long> whole(String path, long min, long max, String allowed) {
        return value(path, allowed)
                .flatMap(
                        v -> {
                            Optional<Long> n = wholeNumber(v);
                            if (n.isEmpty() || n.get() < min || n.get() > max) {
                                problem(path, Optional.of(v), allowed);
                                return Optional.empty();
                            }
                            return n;
                        });
    }

    /** A size in bytes such as {@code 2MiB} or {@code 65536}, in {@code min..max}. */
    Optional<Long> bytes(String path, long min, long max, String allowed) {
        return value(path, allowed)
                .flatMap(
                        v -> {
                            try {
                                long n = config.getBytes(path);
                                if (n >= min && n <= max) {
                                    return Optional.of(n);
                                }
                            } catch (ConfigException e) {
                                // reported below, with the allowed form
                            }
                            problem(path, Optional.of(v), allowed);
                            return Optional.empty();
                        });
    }

    /**
     * A duration such as {@code 30s} or {@code 500ms} (a bare number is milliseconds), positive or
     * with {@code zeroAllowed} also zero, and at most {@link #MAX_DURATION}.
     */
    Optional<Duration> duration(String path, boolean zeroAllowed) {
        String allowed =
                "must be a "
                        + (zeroAllowed ? "zero or positive" : "positive")
                        + " duration up to 24d, e.g. 30s or 500ms";
        return value(path, allowed)
                .flatMap(
                        v -> {
                            try {
                                Duration d = config.getDuration(path);
                                if (!d.isNegative()
                                        && (zeroAllowed || !d.isZero())
                                        && d.compareTo(MAX_DURATION) <= 0) {
                                    return Optional.of(d);
                                }
                            } catch (ConfigException e) {
                                // reported below, with the allowed form
                            }
                            problem(path, Optional.of(v), allowed);
                            return Optional.empty();
                        });
    }

    /**
     * A list of strings, each element checked on its own; an element problem names {@code path[i]}.
     */
    Optional<List<ElementText>> stringList(String path, String allowed) {
        return value(path, allowed)
                .flatMap(
                        v -> {
                            if (v.valueType() != ConfigValueType.LIST) {
                                problem(path, Optional.of(v), allowed);
                                return Optional.empty();
                            }
                            List<ElementText> texts = new ArrayList<>();
                            List<? extends ConfigValue> elements = config.getList(path);
                            for (int i = 0; i < elements.size(); i++) {
                                String key = path + "[" + i + "]";
                                ConfigValue element = elements.get(i);
                                scalarText(key, element, allowed)
                                        .ifPresent(
                                                t -> texts.add(new ElementText(key, element, t)));
                            }
                            return Optional.of(texts);
                        });
    }

    /**
     * One element of a string list: its key path ({@code a.b[2]}), its value and that value as
     * text.
     */
    record ElementText(String key, ConfigValue value, String text) {}

    private Optional<String> scalarText(String key, ConfigValue v, String allowed) {
        return switch (v.valueType()) {
            case STRING, NUMBER, BOOLEAN -> Optional.of(String.valueOf(v.unwrapped()));
            default -> {
                problem(key, Optional.of(v), allowed);
                yield Optional.empty();
            }
        };
    }

    private static Optional<Long> wholeNumber(ConfigValue v) {
        Object raw = v.unwrapped();
        if (raw instanceof Integer || raw instanceof Long) {
            return Optional.of(((Number) raw).longValue());
        }
        if (raw instanceof String s && s.strip().matches("[+-]?[0-9]{1,18}")) {
            return Optional.of(Long.parseLong(s.strip()));
        }
        return Optional.empty();
    }

    /** The value as HOCON would write it: strings quoted, so "" and " 80" stay visible. */
    private static String render(ConfigValue v) {
        return v.render(ConfigRenderOptions.concise());
    }

    /**
     * Where a value came from: " (from FILE:LINE)", " (from environment variable X)", or " (default
     * from reference.conf:LINE)"; empty when the origin says nothing useful.
     */
    private static String where(ConfigValue v) {
        ConfigOrigin origin = v.origin();
        String line = origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "";
        if (origin.resource() != null) {
            return " (default from " + origin.resource() + line + ")";
        }
        if (origin.filename() != null) {
            return " (from " + origin.filename() + line + ")";
        }
        String description = origin.description();
        return description.startsWith(EnvironmentOverrides.ORIGIN_PREFIX)
                ? " (from " + description + ")"
                : "";
    }
}
