package io.capstan.faults.history;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's history file: one {@link Event} per line, as JSON, in the order they were recorded.
 *
 * <p>Threads: {@link #record} may be called from any thread; lines are written whole, in the order
 * the calls took the lock, and each event's time is taken under that lock, so the file's times
 * never go backwards. The file is flushed on {@link #close}.
 */
public final class HistoryFile implements AutoCloseable {
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final BufferedWriter out;
    private final long startNanos;

    private HistoryFile(BufferedWriter out, long startNanos) {
        this.out = out;
        this.startNanos = startNanos;
    }

    /** Creates (or truncates) {@code file}; times are measured from now. */
    public static HistoryFile create(Path file) throws IOException {
        return new HistoryFile(Files.newBufferedWriter(file), System.nanoTime());
    }

    /** Nanoseconds since the history started. */
    public long now() {
        return System.nanoTime() - startNanos;
    }

    /** Stamps the event with the current time and appends it; returns that time. */
    public synchronized long record(Event.Builder event) {
        long time = now();
        Event stamped = event.at(time).build();
        try {
            out.write(JSON.writeValueAsString(stamped));
            out.newLine();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the history", e);
        }
        return time;
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    /** Every event of a history file, in file order. */
    public static List<Event> read(Path file) throws IOException {
        List<Event> events = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                events.add(JSON.readValue(line, Event.class));
            }
        }
        return events;
    }
}
