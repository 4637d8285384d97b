package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.raft.Backup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code capstan snapshot restore FILE}: seeds one member of a new cluster from a backup, as {@code
 * etcdutl snapshot restore} does: run it for every member, with the same backup and peer list, then
 * start them with {@code capstan serve}. The backup is checked whole (its SHA-256 and every record)
 * before anything is written, and only into an empty data directory; the new cluster has every key
 * at the revision it had, and members of its own. Exit codes: 0 restored, 1 the backup or the
 * directory was refused, 2 usage or configuration.
 */
@Command(
        name = "restore",
        description =
                "Seed a member of a new cluster from a backup FILE "
                        + "(capstan snapshot save or etcdctl snapshot save).")
final class SnapshotRestoreCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin NodeOptions node;

    @Parameters(paramLabel = "FILE", description = "The backup.")
    Path backup;

    @Override
    public Integer call() {
        Settings settings = node.load();
        Path raftDir = settings.raft().dataDir();
        try {
            Backup.Contents restored = Backup.seed(backup, raftDir);
            spec.commandLine()
                    .getOut()
                    .printf(
                            "restored %s into %s: revision %d, %d keys, %d leases (sha256 %s)%n"
                                    + "start member %s with capstan serve; every member of the new cluster needs the same"
                                    + " backup restored and the same peers%n",
                            backup,
                            settings.node().dataDir(),
                            restored.revision(),
                            restored.keys(),
                            restored.leases(),
                            restored.sha256(),
                            settings.node().id());
            return ExitCodes.OK;
        } catch (IOException e) {
            spec.commandLine().getErr().println("capstan: restore failed: " + e.getMessage());
            return ExitCodes.FAILED;
        }
    }
}
