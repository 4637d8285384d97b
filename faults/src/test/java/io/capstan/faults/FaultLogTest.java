package io.capstan.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.faults.history.HistoryFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A membership request the harness made is in the fault log and in the run's output alike, on the
 * history's clock, while a fault's start and end go to the fault log only.
 */
class FaultLogTest {

    @Test
    void requestsGoToTheFaultLogAndTheRunsOutput(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Path file = dir.resolve("faults.jsonl");
        try (HistoryFile history = HistoryFile.create(dir.resolve("history.jsonl"));
                FaultLog log =
                        new FaultLog(
                                file,
                                history,
                                new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            log.start("member-change", "remove n2, then add it back");
            log.request("member-remove", "n2 via n1 at 127.0.0.1:27581 (the leader): failed: x");
            assertEquals(Map.of("member-change", 1), log.injected());
        }

        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size(), String.join("\n", lines));
        JsonNode request = new ObjectMapper().readTree(lines.get(1));
        assertEquals("member-remove", request.path("kind").asText());
        assertEquals("request", request.path("phase").asText());
        assertEquals(
                "n2 via n1 at 127.0.0.1:27581 (the leader): failed: x",
                request.path("detail").asText());
        String output = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, output.lines().count(), output);
        assertTrue(
                output.matches(
                        "\\s*\\d+\\.\\d{3} s  member-remove: n2 via n1 at 127.0.0.1:27581 \\(the"
                                + " leader\\): failed: x\\R"),
                output);
        assertEquals(
                String.format("%.3f", request.path("time").asLong() / 1e9),
                output.trim().split(" ")[0],
                "the same time in both");
    }
}
