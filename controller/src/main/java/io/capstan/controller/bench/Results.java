package io.capstan.controller.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One benchmark invocation's results as JSON: what {@code capstan bench --endpoints ... --json}
 * prints, and what the comparison script writes for each wrk run over the JSON gateway.
 *
 * @param label the system measured, as {@code --label} names it (e.g. {@code etcd}, {@code
 *     capstan})
 * @param api {@code grpc}, or {@code gateway} for etcd's JSON gateway
 * @param workload the workload's name
 * @param endpoints the endpoints given ({@code grpc} only)
 * @param target {@code leader} or {@code all} ({@code grpc} only)
 * @param valueBytes size of each put's value
 * @param warmupSeconds unmeasured seconds before each point
 * @param machine the machine when the run began ({@code grpc} only)
 * @param points one per client count, in the order run
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Results(
        String label,
        String api,
        String workload,
        List<String> endpoints,
        String target,
        Integer valueBytes,
        Double warmupSeconds,
        Machine machine,
        List<Point> points) {
    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    Results {
        points = List.copyOf(points == null ? List.of() : points);
    }

    String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("benchmark results cannot be written as JSON: " + e, e);
        }
    }

    static Results read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), Results.class);
    }

    static ObjectMapper json() {
        return JSON;
    }
}
