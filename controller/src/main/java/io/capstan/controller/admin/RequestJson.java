package io.capstan.controller.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A request body that must be one JSON object with known fields only, so a typo ({@code "lerner"})
 * is refused instead of ignored. Every problem is a 400 {@code bad_request} naming it. Immutable.
 */
final class RequestJson {
    // ObjectReader is immutable and thread-safe.
    private static final ObjectReader READER = new ObjectMapper().reader();

    private final JsonNode object;

    private RequestJson(JsonNode object) {
        this.object = object;
    }

    /**
     * @param allowed the fields the endpoint reads
     * @throws AdminError.AdminException 400 when the body is not such an object
     */
    static RequestJson parse(byte[] body, Set<String> allowed) {
        JsonNode node;
        try {
            node = body.length == 0 ? null : READER.readTree(body);
        } catch (JsonProcessingException e) {
            throw bad("the request body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw bad("the request body cannot be read: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw bad(
                    "the request body must be a JSON object with "
                            + String.join(", ", new TreeSet<>(allowed)));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw bad(
                        "unknown field '"
                                + name
                                + "'; known: "
                                + String.join(", ", new TreeSet<>(allowed)));
            }
        }
        return new RequestJson(node);
    }

    /** A string field that must be present and not blank. */
    String requiredText(String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            throw bad("'" + field + "' is required");
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            throw bad("'" + field + "' must be a non-empty string, was " + value);
        }
        return value.asText();
    }

    /** A field that must be an array of non-empty strings, if present; empty when left out. */
    List<String> texts(String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return List.of();
        }
        List<String> texts = new ArrayList<>();
        if (value.isArray()) {
            for (JsonNode element : value) {
                if (!element.isTextual() || element.asText().isBlank()) {
                    break;
                }
                texts.add(element.asText());
            }
        }
        if (!value.isArray() || texts.size() != value.size()) {
            throw bad("'" + field + "' must be an array of non-empty strings, was " + value);
        }
        return List.copyOf(texts);
    }

    /**
     * A field that must be an object whose values are whole numbers in {@code min..max}, if
     * present; empty when left out. Keeps the object's order.
     */
    Map<String, Long> wholeNumbers(String field, long min, long max) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return Map.of();
        }
        if (!value.isObject()) {
            throw bad(
                    "'"
                            + field
                            + "' must be an object of names to numbers "
                            + min
                            + ".."
                            + max
                            + ", was "
                            + value);
        }
        Map<String, Long> numbers = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> e = fields.next();
            JsonNode n = e.getValue();
            if (!n.canConvertToExactIntegral()
                    || !n.canConvertToLong()
                    || n.asLong() < min
                    || n.asLong() > max) {
                throw bad(
                        "'"
                                + field
                                + "."
                                + e.getKey()
                                + "' must be a whole number "
                                + min
                                + ".."
                                + max
                                + ", was "
                                + n);
            }
            numbers.put(e.getKey(), n.asLong());
        }
        return numbers;
    }

    /** A boolean field, {@code absent} when left out. */
    boolean flag(String field, boolean absent) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isBoolean()) {
            throw bad("'" + field + "' must be true or false, was " + value);
        }
        return value.asBoolean();
    }

    private static AdminError.AdminException bad(String message) {
        return AdminErrors.badRequest(message).toException();
    }
}
