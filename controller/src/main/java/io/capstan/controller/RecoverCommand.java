package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.raft.Backup;
import io.capstan.raft.LogReplay;
import io.capstan.raft.Peer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code capstan recover}: for a member whose quorum is gone for good, makes its state the start of
 * a new cluster, as etcd's {@code --force-new-cluster} does. With the daemon stopped, it rebuilds
 * the member's state from its own files ({@link LogReplay}: its latest snapshot, then every entry
 * of its log), writes that state to a backup file beside the data, moves the old Raft directory
 * aside (never deletes it) and seeds a fresh one from the backup. The member then starts with
 * {@code capstan serve} as a new cluster of the given peers (by default itself alone); others join
 * with {@code etcdctl member add}.
 *
 * <p>Every entry on the member's disk is carried over, also those it had not heard were committed
 * yet, as if it had won an election: so every acknowledged write it holds survives. Exit codes: 0
 * recovered, 1 failed (the old data is left as it was), 2 usage or configuration.
 */
@Command(
        name = "recover",
        description =
                "Force a new cluster from this member's own state after its quorum "
                        + "is lost for good (etcd's --force-new-cluster). Run it with the daemon stopped.")
final class RecoverCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin NodeOptions node;

    @Override
    public Integer call() {
        Settings current = node.load(Optional.empty());
        Peer self = current.raft().self();
        Settings settings =
                node.load(
                        Optional.of(
                                Optional.ofNullable(node.peers)
                                        .orElse(self.id() + "=" + self.address())));
        Path raftDir = settings.raft().dataDir();
        long stamp = Clock.systemUTC().millis() / 1000;
        Path backup = raftDir.resolveSibling("recovered-" + stamp + ".snapshot");
        Path aside = raftDir.resolveSibling(raftDir.getFileName() + ".before-recover-" + stamp);
        try {
            LogReplay.Replayed replayed = LogReplay.writeBackup(settings.raft(), backup);
            Files.move(raftDir, aside);
            Backup.Contents restored = Backup.seed(backup, raftDir);
            spec.commandLine()
                    .getOut()
                    .printf(
                            "recovered member %s from its log up to entry %d:"
                                    + " revision %d, %d keys, %d leases%n"
                                    + "old Raft state kept in %s, backup in %s%n"
                                    + "start it with capstan serve and capstan.raft.peers = %s%n",
                            settings.node().id(),
                            replayed.logIndex(),
                            restored.revision(),
                            restored.keys(),
                            restored.leases(),
                            aside,
                            backup,
                            settings.raft().peers());
            return ExitCodes.OK;
        } catch (IOException e) {
            spec.commandLine().getErr().println("capstan: recover failed: " + e.getMessage());
            return ExitCodes.FAILED;
        }
    }
}
