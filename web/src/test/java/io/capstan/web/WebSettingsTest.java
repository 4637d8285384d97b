package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class WebSettingsTest {

    private static final Pattern ENTRY = Pattern.compile("\\s*([a-z0-9-]+)\\s*=\\s*(.+?)\\s*");
    private static final Pattern SIZE = Pattern.compile("(\\d+)(KiB|MiB)");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(s|m)");

    @Test
    void referenceConfHoldsEveryComponentWithACommentAndTheDefaults() throws Exception {
        Map<String, String> entries = referenceEntries();
        RecordComponent[] components = WebSettings.class.getRecordComponents();
        assertEquals(Arrays.stream(components).map(c -> kebab(c.getName())).toList(), List.copyOf(entries.keySet()),
                "reference.conf keys, in record order");
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            values[i] = convert(entries.get(kebab(components[i].getName())), types[i]);
        }
        WebSettings fromFile = WebSettings.class.getDeclaredConstructor(types).newInstance(values);
        assertEquals(WebSettings.defaults(), fromFile);
    }

    @Test
    void badValuesAreRejectedNamingTheKey() {
        WebSettings d = WebSettings.defaults();
        assertRejected("port", () -> d.withPort(65536));
        assertRejected("io-threads", () -> new WebSettings(d.host(), 0, 0, 1, 1, 1,
                d.requestParseTimeout(), d.idleTimeout(), 1, 1, d.drainTimeout()));
        assertRejected("max-body-bytes", () -> new WebSettings(d.host(), 0, 1, 1, 0, 1,
                d.requestParseTimeout(), d.idleTimeout(), 1, 1, d.drainTimeout()));
        assertRejected("request-parse-timeout", () -> new WebSettings(d.host(), 0, 1, 1, 1, 1,
                Duration.ZERO, d.idleTimeout(), 1, 1, d.drainTimeout()));
        assertRejected("idle-timeout", () -> new WebSettings(d.host(), 0, 1, 1, 1, 1,
                d.requestParseTimeout(), Duration.ofDays(30), 1, 1, d.drainTimeout()));
        assertRejected("max-queued-requests", () -> new WebSettings(d.host(), 0, 1, 1, 1, 1,
                d.requestParseTimeout(), d.idleTimeout(), 1, 0, d.drainTimeout()));
        assertRejected("drain-timeout", () -> new WebSettings(d.host(), 0, 1, 1, 1, 1,
                d.requestParseTimeout(), d.idleTimeout(), 1, 1, Duration.ofSeconds(-1)));
        assertRejected("host", () -> new WebSettings(" ", 0, 1, 1, 1, 1,
                d.requestParseTimeout(), d.idleTimeout(), 1, 1, d.drainTimeout()));
    }

    private static void assertRejected(String key, Runnable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
        assertTrue(e.getMessage().startsWith(key + " "), e.getMessage());
    }

    /** The {@code capstan.web} block's entries in file order; each must follow a comment line. */
    private static Map<String, String> referenceEntries() throws IOException {
        String text;
        try (InputStream in = WebSettings.class.getResourceAsStream("/reference.conf")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> lines = text.lines().toList();
        int open = lines.indexOf("capstan.web {");
        assertTrue(open >= 0, "reference.conf has a capstan.web block");
        Map<String, String> entries = new LinkedHashMap<>();
        for (int i = open + 1; !lines.get(i).equals("}"); i++) {
            Matcher entry = ENTRY.matcher(lines.get(i));
            if (entry.matches()) {
                assertTrue(lines.get(i - 1).trim().startsWith("#"), "no comment above " + entry.group(1));
                entries.put(entry.group(1), entry.group(2));
            }
        }
        return entries;
    }

    private static Object convert(String value, Class<?> type) {
        Matcher size = SIZE.matcher(value);
        Matcher duration = DURATION.matcher(value);
        if (type == String.class) {
            return value.replace("\"", "");
        } else if (type == Duration.class && duration.matches()) {
            long amount = Long.parseLong(duration.group(1));
            return duration.group(2).equals("s") ? Duration.ofSeconds(amount) : Duration.ofMinutes(amount);
        } else if (size.matches()) {
            long bytes = Long.parseLong(size.group(1)) * (size.group(2).equals("KiB") ? 1024 : 1024 * 1024);
            return type == int.class ? (Object) Math.toIntExact(bytes) : (Object) bytes;
        } else if (type == int.class) {
            return Integer.parseInt(value);
        } else if (type == long.class) {
            return Long.parseLong(value);
        }
        throw new AssertionError("cannot read " + value + " as " + type);
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }
}
