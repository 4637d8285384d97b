package io.capstan.controller;

import io.capstan.controller.bench.BenchCommand;
import picocli.CommandLine.Command;

/** {@code capstan}: the top-level command; every action is a subcommand. */
@Command(
        name = "capstan",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Raft-replicated control-plane daemon speaking the etcd v3 API.",
        subcommands = {
            ServeCommand.class,
            VersionCommand.class,
            BenchCommand.class,
            ClusterCommand.class,
            SnapshotCommand.class,
            HealthCommand.class,
            RecoverCommand.class,
            ArtifactCommand.class
        })
final class CapstanCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(
                spec.commandLine(), "a subcommand is required");
    }
}
