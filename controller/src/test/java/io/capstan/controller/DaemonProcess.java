package io.capstan.controller;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A {@code capstan} process started from the test classpath, as an operator would start the
 * packaged daemon: its own JVM, its own environment, killed by real signals.
 */
final class DaemonProcess implements AutoCloseable {
    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private DaemonProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts {@code capstan args...} with {@code env} added to a CAPSTAN_-free environment. */
    static DaemonProcess start(Path workDir, Map<String, String> env, String... args)
            throws IOException {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx256m",
                                "-cp",
                                productionClassPath(),
                                Main.class.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .directory(workDir.toFile())
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("CAPSTAN_"));
        builder.environment().putAll(env);
        return new DaemonProcess(builder.start(), out, err);
    }

    /**
     * The test JVM's classpath without test classes, so the daemon logs as it does in production.
     */
    private static String productionClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Polls GET url until it answers {@code status} or the process dies; false on timeout. */
    boolean awaitHttpStatus(String url, int status, Duration timeout) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            try {
                HttpResponse<Void> r =
                        client.send(
                                HttpRequest.newBuilder(URI.create(url))
                                        .timeout(Duration.ofSeconds(2))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == status) {
                    return true;
                }
            } catch (IOException notYetListening) {
                // keep polling until the deadline
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** Sends SIGKILL: no shutdown hook, no flush, nothing runs. */
    void kill() throws InterruptedException {
        signalKill();
        process.waitFor();
    }

    /** Sends SIGKILL without waiting for the process to be gone. */
    void signalKill() {
        process.destroyForcibly();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Sends SIGTERM (what systemd and Process.destroy send on Linux). */
    void terminate() {
        process.destroy();
    }

    /** Waits for exit and returns the code, or fails the test after {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(
                    "capstan did not exit within " + timeout + "; stderr:\n" + stderr());
        }
        return process.exitValue();
    }

    String stdout() {
        return read(stdout);
    }

    String stderr() {
        return read(stderr);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
