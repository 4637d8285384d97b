package io.capstan.controller;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code capstan version}: prints the version and exits 0. */
@Command(name = "version", description = "Print the version and exit.")
final class VersionCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().println("capstan " + Version.current());
        return ExitCodes.OK;
    }
}
