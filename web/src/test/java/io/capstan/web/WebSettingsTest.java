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
    private static final Pattern BLOCK = Pattern.compile("\\s*([a-z0-9-]+)\\s*\\{\\s*");
    private static final Pattern SIZE = Pattern.compile("(\\d+)(KiB|MiB)");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(s|m)");

    @Test
    void referenceConfHoldsEveryComponentWithACommentAndTheDefaults() throws Exception {
        Map<String, String> entries = referenceEntries();
        RecordComponent[] components = WebSettings.class.getRecordComponents();
        assertEquals(
                Arrays.stream(components).map(c -> kebab(c.getName())).toList(),
                List.copyOf(entries.keySet()),
                "reference.conf keys, in record order");
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            String key = kebab(components[i].getName());
            values[i] = key.equals("admission") ? admission() : convert(entries.get(key), types[i]);
        }
        WebSettings fromFile = WebSettings.class.getDeclaredConstructor(types).newInstance(values);
        assertEquals(WebSettings.defaults(), fromFile);
    }

    @Test
    void badValuesAreRejectedNamingTheKey() {
        WebSettings d = WebSettings.defaults();
        assertRejected("port", () -> d.withPort(65536));
        assertRejected(
                "io-threads",
                () ->
                        new WebSettings(
                                d.host(),
                                0,
                                0,
                                1,
                                1,
                                1,
                                d.requestParseTimeout(),
                                d.idleTimeout(),
                                d.drainTimeout(),
                                d.admission()));
        assertRejected(
                "max-body-bytes",
                () ->
                        new WebSettings(
                                d.host(),
                                0,
                                1,
                                1,
                                0,
                                1,
                                d.requestParseTimeout(),
                                d.idleTimeout(),
                                d.drainTimeout(),
                                d.admission()));
        assertRejected(
                "request-parse-timeout",
                () ->
                        new WebSettings(
                                d.host(),
                                0,
                                1,
                                1,
                                1,
                                1,
                                Duration.ZERO,
                                d.idleTimeout(),
                                d.drainTimeout(),
                                d.admission()));
        assertRejected(
                "idle-timeout",
                () ->
                        new WebSettings(
                                d.host(),
                                0,
                                1,
                                1,
                                1,
                                1,
                                d.requestParseTimeout(),
                                Duration.ofDays(30),
                                d.drainTimeout(),
                                d.admission()));
        assertRejected(
                "drain-timeout",
                () ->
                        new WebSettings(
                                d.host(),
                                0,
                                1,
                                1,
                                1,
                                1,
                                d.requestParseTimeout(),
                                d.idleTimeout(),
                                Duration.ofSeconds(-1),
                                d.admission()));
        assertRejected(
                "host",
                () ->
                        new WebSettings(
                                " ",
                                0,
                                1,
                                1,
                                1,
                                1,
                                d.requestParseTimeout(),
                                d.idleTimeout(),
                                d.drainTimeout(),
                                d.admission()));
        assertRejected(
                "admission budget name",
                () ->
                        new WebSettings(
                                d.host(),
                                0,
                                1,
                                1,
                                1,
                                1,
                                d.requestParseTimeout(),
                                d.idleTimeout(),
                                d.drainTimeout(),
                                Map.of(
                                        "Gateway",
                                        new AdmissionSettings(1, 0, Duration.ofSeconds(1)))));
        assertRejected("max-in-flight", () -> new AdmissionSettings(0, 0, Duration.ofSeconds(1)));
        assertRejected("max-queued", () -> new AdmissionSettings(1, -1, Duration.ofSeconds(1)));
        assertRejected("max-queue-wait", () -> new AdmissionSettings(1, 0, Duration.ZERO));
    }

    private static void assertRejected(String key, Runnable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
        assertTrue(e.getMessage().startsWith(key + " "), e.getMessage());
    }

    /**
     * The {@code capstan.web} block's entries in file order, each block within it (admission) as
     * one entry; every entry must follow a comment line.
     */
    private static Map<String, String> referenceEntries() throws IOException {
        return entriesOf(blockLines("capstan.web"));
    }

    /** The admission budgets of reference.conf. */
    private static Map<String, AdmissionSettings> admission() throws IOException {
        List<String> admission = innerLines(blockLines("capstan.web"), "admission");
        Map<String, AdmissionSettings> budgets = new LinkedHashMap<>();
        for (String name : entriesOf(admission).keySet()) {
            Map<String, String> limits = entriesOf(innerLines(admission, name));
            assertEquals(
                    List.of("max-in-flight", "max-queued", "max-queue-wait"),
                    List.copyOf(limits.keySet()));
            budgets.put(
                    name,
                    new AdmissionSettings(
                            (int) convert(limits.get("max-in-flight"), int.class),
                            (int) convert(limits.get("max-queued"), int.class),
                            (Duration) convert(limits.get("max-queue-wait"), Duration.class)));
        }
        return budgets;
    }

    private static List<String> blockLines(String name) throws IOException {
        String text;
        try (InputStream in = WebSettings.class.getResourceAsStream("/reference.conf")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> lines = text.lines().toList();
        int open = lines.indexOf(name + " {");
        assertTrue(open >= 0, "reference.conf has a " + name + " block");
        return lines.subList(open + 1, lines.indexOf("}"));
    }

    /** The lines inside the block {@code name} that opens at the top level of {@code lines}. */
    private static List<String> innerLines(List<String> lines, String name) {
        int depth = 0;
        for (int i = 0; i < lines.size(); i++) {
            Matcher block = BLOCK.matcher(lines.get(i));
            if (depth == 0 && block.matches() && block.group(1).equals(name)) {
                int end = i + 1;
                for (int inner = 1; inner > 0; end++) {
                    inner += depthChange(lines.get(end));
                }
                return lines.subList(i + 1, end - 1);
            }
            depth += depthChange(lines.get(i));
        }
        throw new AssertionError("no block " + name);
    }

    /** The entries and blocks at the top level of {@code lines}, a block's value being "{". */
    private static Map<String, String> entriesOf(List<String> lines) {
        Map<String, String> entries = new LinkedHashMap<>();
        int depth = 0;
        for (int i = 0; i < lines.size(); i++) {
            Matcher entry = ENTRY.matcher(lines.get(i));
            Matcher block = BLOCK.matcher(lines.get(i));
            if (depth == 0 && (entry.matches() || block.matches())) {
                String key = entry.matches() ? entry.group(1) : block.group(1);
                assertTrue(lines.get(i - 1).trim().startsWith("#"), "no comment above " + key);
                entries.put(key, entry.matches() ? entry.group(2) : "{");
            }
            depth += depthChange(lines.get(i));
        }
        return entries;
    }

    private static int depthChange(String line) {
        String code = line.contains("#") ? line.substring(0, line.indexOf('#')) : line;
        return (int)
                (code.chars().filter(c -> c == '{').count()
                        - code.chars().filter(c -> c == '}').count());
    }

    private static Object convert(String value, Class<?> type) {
        Matcher size = SIZE.matcher(value);
        Matcher duration = DURATION.matcher(value);
        if (type == String.class) {
            return value.replace("\"", "");
        } else if (type == Duration.class && duration.matches()) {
            long amount = Long.parseLong(duration.group(1));
            return duration.group(2).equals("s")
                    ? Duration.ofSeconds(amount)
                    : Duration.ofMinutes(amount);
        } else if (size.matches()) {
            long bytes =
                    Long.parseLong(size.group(1))
                            * (size.group(2).equals("KiB") ? 1024 : 1024 * 1024);
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
