package io.capstan.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The files Ratis keeps under a member's data directory, found by their names. */
final class RaftFiles {
    /** {@code snapshot.<term>_<index>}; its {@code .md5} does not match. */
    private static final Pattern SNAPSHOT = Pattern.compile("snapshot\\.\\d+_(\\d+)");

    /** {@code log_<first>-<last>} (closed) or {@code log_inprogress_<first>} (open). */
    private static final Pattern SEGMENT = Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-\\d+)?");

    private RaftFiles() {}

    /** The snapshot files by the last log index each holds, oldest first. */
    static NavigableMap<Long, Path> snapshots(Path dataDir) throws IOException {
        return byIndex(dataDir, SNAPSHOT);
    }

    /** The log segment files by their first index, oldest first. */
    static NavigableMap<Long, Path> logSegments(Path dataDir) throws IOException {
        return byIndex(dataDir, SEGMENT);
    }

    private static NavigableMap<Long, Path> byIndex(Path dataDir, Pattern name) throws IOException {
        // Ratis purges log segments and old snapshots while a member runs; a file gone mid-walk
        // means walk again.
        for (int attempt = 1; ; attempt++) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                NavigableMap<Long, Path> found = new TreeMap<>();
                files.forEach(
                        file -> {
                            Matcher m = name.matcher(file.getFileName().toString());
                            if (m.matches()) {
                                found.put(Long.parseLong(m.group(1)), file);
                            }
                        });
                return found;
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof NoSuchFileException) || attempt == 5) {
                    throw e;
                }
            }
        }
    }
}
