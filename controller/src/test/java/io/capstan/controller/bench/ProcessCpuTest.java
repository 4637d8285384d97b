package io.capstan.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ProcessCpuTest {
    @TempDir Path proc;

    @Test
    void sumsUserAndSystemTicksOfEveryProcessInMicroseconds() throws Exception {
        // A command name with spaces and parentheses must not shift the fields.
        stat(7, "7 (java (main) x) S 1 7 7 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 40 0 100 0 0");
        stat(9, "9 (etcd) S 1 9 9 0 -1 4194560 100 0 0 0 12 8 0 0 20 0 10 0 100 0 0");

        assertEquals((250 + 30 + 12 + 8) * 10_000L, new ProcessCpu(proc, List.of(7L, 9L)).micros());
    }

    @Test
    void aGoneProcessOrAGarbledLineIsAnError() throws Exception {
        assertThrows(java.io.IOException.class, () -> new ProcessCpu(proc, List.of(3L)).micros());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> ProcessCpu.ticks("5 (x) S 1", 5));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
    }

    @Test
    void readsThisProcessFromTheRealProc() throws Exception {
        Path real = Path.of("/proc");
        long self = ProcessHandle.current().pid();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isReadable(real.resolve(Long.toString(self)).resolve("stat")));
        ProcessCpu cpu = new ProcessCpu(real, List.of(self));
        long before = cpu.micros();
        long spin = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        long sink = 0;
        while (System.nanoTime() < spin) {
            sink += sink * 31 + 1;
        }
        assertTrue(cpu.micros() > before, "a busy thread's CPU time shows (" + sink + ")");
    }

    private void stat(long pid, String line) throws Exception {
        Files.createDirectories(proc.resolve(Long.toString(pid)));
        Files.writeString(proc.resolve(Long.toString(pid)).resolve("stat"), line + "\n");
    }
}
