package io.capstan.faults;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.faults.history.HistoryFile;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run's fault log ({@code faults.jsonl}): each fault's start and end, on the history's clock,
 * so the two files line up; also the count of faults injected by kind. Each request the harness
 * makes of the cluster for a fault (a membership change) is also printed to the run's output, with
 * the member it went to and the answer, so a fault that did not finish can be read from both.
 *
 * <p>Threads: used by the control thread only.
 */
final class FaultLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;
    private final HistoryFile clock;
    private final PrintStream output;
    private final Map<String, Integer> injected = new TreeMap<>();

    /**
     * @param output the run's output, where {@link #request} lines are printed too
     */
    FaultLog(Path file, HistoryFile clock, PrintStream output) throws IOException {
        this.out = Files.newBufferedWriter(file);
        this.clock = clock;
        this.output = output;
    }

    void start(String kind, String detail) throws IOException {
        injected.merge(kind, 1, Integer::sum);
        line(kind, "start", detail);
    }

    void end(String kind, String detail) throws IOException {
        line(kind, "end", detail);
    }

    /** Ends a fault that {@link #start} began but that could not be injected; it is not counted. */
    void notInjected(String kind, String why) throws IOException {
        injected.computeIfPresent(kind, (k, n) -> n > 1 ? n - 1 : null);
        line(kind, "end", "not injected: " + why);
    }

    /** A note of the harness (the cluster recovered, a step it took). */
    void note(String what) throws IOException {
        line("harness", "note", what);
    }

    /**
     * A request made of the cluster for a fault of {@code kind} and how it ended: written to the
     * fault log and printed to the run's output.
     */
    void request(String kind, String what) throws IOException {
        long time = line(kind, "request", what);
        output.printf("%9.3f s  %s: %s%n", time / 1e9, kind, what);
    }

    private long line(String kind, String phase, String detail) throws IOException {
        long time = clock.now();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", time);
        line.put("kind", kind);
        line.put("phase", phase);
        line.put("detail", detail);
        out.write(JSON.writeValueAsString(line));
        out.newLine();
        out.flush();
        return time;
    }

    Map<String, Integer> injected() {
        return Map.copyOf(injected);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
