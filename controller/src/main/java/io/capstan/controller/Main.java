package io.capstan.controller;

import picocli.CommandLine;

/**
 * The {@code capstan} process entry point. The only class that calls {@link System#exit}.
 *
 * <p>Exit codes: 0 after a clean run or stop, 1 when the daemon failed to start or failed
 * while running, 2 for bad configuration or bad usage.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the process exit code, without exiting. */
    static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command line {@link #run} executes, with its exit codes and error reporting. */
    static CommandLine commandLine() {
        return new CommandLine(new CapstanCommand())
                .setExitCodeExceptionMapper(ExitCodes::forException)
                .setExecutionExceptionHandler((ex, cmd, parsed) -> {
                    cmd.getErr().println("capstan: " + ex.getMessage());
                    return ExitCodes.forException(ex);
                });
    }
}
