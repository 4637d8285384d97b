package io.capstan.controller;

import picocli.CommandLine;

/**
 * The {@code capstan} process entry point. The only class that calls {@link System#exit}.
 *
 * <p>Exit codes: 0 after a clean run or stop, 1 when the daemon failed to start or failed while
 * running, 2 for bad configuration or bad usage.
 */
public final class Main {

    /** The JDK's system property that sizes the common fork-join pool. */
    static final String COMMON_POOL_PARALLELISM =
            "java.util.concurrent.ForkJoinPool.common.parallelism";

    static {
        // With one core to spare (the JDK's default on a 2-core machine) the common pool has
        // parallelism 1, and every CompletableFuture stage run "async" without an executor then
        // starts a thread of its own. Ratis's followers do that for each append they receive: a
        // thread per write. Two pool threads at least make those stages share the pool. This runs
        // before anything in the process touches CompletableFuture, which reads the setting once.
        if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
            System.setProperty(
                    COMMON_POOL_PARALLELISM,
                    Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
        }
    }

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the process exit code, without exiting. */
    static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command line {@link #run} executes, with its exit codes and error reporting. */
    public static CommandLine commandLine() {
        return new CommandLine(new CapstanCommand())
                .setExitCodeExceptionMapper(ExitCodes::forException)
                .setExecutionExceptionHandler(
                        (ex, cmd, parsed) -> {
                            cmd.getErr().println("capstan: " + ex.getMessage());
                            return ExitCodes.forException(ex);
                        });
    }
}
