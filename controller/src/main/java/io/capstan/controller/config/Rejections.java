package io.capstan.controller.config;

import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns a module's {@link IllegalArgumentException} into a {@link Problem} that names configuration
 * keys. The binder checks every rule it knows before building a module's settings; this covers a
 * rule a module adds later, so that it still reads as a configuration problem instead of a crash.
 */
final class Rejections {
    private Rejections() {}

    /**
     * @param fallbackKey the key the problem names when the message mentions no known field
     * @param keysByName the module's field or key names, each mapped to its key path
     * @return a problem whose key is the first field the message mentions, and whose message is the
     *     module's with every mentioned field replaced by its key path
     */
    static Problem problem(
            String fallbackKey, Map<String, String> keysByName, IllegalArgumentException e) {
        String message = Optional.ofNullable(e.getMessage()).orElse(e.getClass().getSimpleName());
        if (keysByName.isEmpty()) {
            return new Problem(fallbackKey, Optional.empty(), message);
        }
        // Longest first, so that a name never matches inside a longer one.
        String names =
                keysByName.keySet().stream()
                        .sorted(Comparator.comparingInt(String::length).reversed())
                        .map(Pattern::quote)
                        .collect(Collectors.joining("|", "(?<![\\w.-])(", ")(?![\\w-])"));
        Matcher m = Pattern.compile(names).matcher(message);
        StringBuilder named = new StringBuilder();
        String key = null;
        while (m.find()) {
            String found = keysByName.get(m.group(1));
            if (key == null) {
                key = found;
            }
            m.appendReplacement(named, Matcher.quoteReplacement(found));
        }
        m.appendTail(named);
        return new Problem(key == null ? fallbackKey : key, Optional.empty(), named.toString());
    }
}
