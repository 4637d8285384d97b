package io.capstan.controller.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time of local processes, from Linux's {@code /proc/<pid>/stat}: user plus system time of all
 * of a process's threads, summed over the processes. Reads files only; safe from any thread.
 */
final class ProcessCpu {
    /**
     * Clock ticks per second of {@code utime} and {@code stime}: the kernel's USER_HZ, which is 100
     * on every architecture Java runs on Linux with ({@code getconf CLK_TCK}).
     */
    private static final long TICKS_PER_SECOND = 100;

    private final Path proc;
    private final List<Long> pids;

    /**
     * @param proc where procfs is mounted, {@code /proc}
     * @param pids the processes to sum
     */
    ProcessCpu(Path proc, List<Long> pids) {
        this.proc = proc;
        this.pids = List.copyOf(pids);
    }

    /**
     * CPU microseconds the processes have used since they started, summed.
     *
     * @throws IOException when a process is gone or its file cannot be read
     */
    long micros() throws IOException {
        long ticks = 0;
        for (long pid : pids) {
            ticks += ticks(Files.readString(proc.resolve(Long.toString(pid)).resolve("stat")), pid);
        }
        return ticks * 1_000_000 / TICKS_PER_SECOND;
    }

    /**
     * utime + stime of one {@code stat} line: fields 14 and 15, counted after the command name,
     * which is in parentheses and may itself hold spaces and parentheses.
     */
    static long ticks(String stat, long pid) {
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            throw new IllegalArgumentException(
                    "not a /proc stat line of process " + pid + ": " + stat);
        }
        String[] fields = stat.substring(end + 1).trim().split("\\s+");
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        if (fields.length < 13) {
            throw new IllegalArgumentException(
                    "a /proc stat line of process " + pid + " too short: " + stat);
        }
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
