package io.capstan.controller.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What the comparison script measured of one system's members, outside the workloads; read by
 * {@code capstan bench report} from {@code <label>.system.json}.
 *
 * @param label the system, as the results' {@code label}
 * @param version what the system says it is, e.g. {@code etcd Version: 3.4.23}
 * @param coldStartSeconds from launching every member of a new cluster to its first acknowledged
 *     write
 * @param restartSeconds from launching every member again, on the data of the run, to the first
 *     acknowledged write
 * @param peakRssKiB each member's peak resident set size (VmHWM) over the run
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record SystemFacts(
        String label,
        String version,
        Double coldStartSeconds,
        Double restartSeconds,
        List<Long> peakRssKiB) {

    SystemFacts {
        peakRssKiB = List.copyOf(peakRssKiB == null ? List.of() : peakRssKiB);
    }

    static SystemFacts read(Path file) throws IOException {
        return Results.json().readValue(file.toFile(), SystemFacts.class);
    }
}
