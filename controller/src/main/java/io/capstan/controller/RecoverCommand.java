package io.capstan.controller;

import io.capstan.controller.config.Settings;
import io.capstan.raft.Backup;
import io.capstan.raft.GrpcTransportBinding;
import io.capstan.raft.NodeStatus;
import io.capstan.raft.Peer;
import io.capstan.raft.RaftNode;
import io.capstan.raft.SnapshotExport;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code capstan recover}: for a member whose quorum is gone for good, makes its state the start of
 * a new cluster, as etcd's {@code --force-new-cluster} does. With the daemon stopped, it starts the
 * member's Raft node alone (Ratis's own gRPC transport on the member's peer port; the peers it knew
 * are gone), lets it apply every entry it knows to be committed, exports that state to a backup
 * file beside the data, moves the old Raft directory aside (never deletes it) and seeds a fresh one
 * from the backup. The member then starts with {@code capstan serve} as a new cluster of the given
 * peers (by default itself alone); others join with {@code etcdctl member add}.
 *
 * <p>Entries this member had appended but did not know to be committed are not carried over: the
 * lost quorum can no longer decide them. Exit codes: 0 recovered, 1 failed (the old data is left as
 * it was), 2 usage or configuration.
 */
@Command(
        name = "recover",
        description =
                "Force a new cluster from this member's own state after its quorum "
                        + "is lost for good (etcd's --force-new-cluster). Run it with the daemon stopped.")
final class RecoverCommand implements Callable<Integer> {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Spec CommandSpec spec;

    @Mixin NodeOptions node;

    @Override
    public Integer call() throws InterruptedException {
        Settings current = node.load(Optional.empty());
        Peer self = current.raft().self();
        Settings settings =
                node.load(
                        Optional.of(
                                Optional.ofNullable(node.peers)
                                        .orElse(self.id() + "=" + self.address())));
        Path raftDir = settings.raft().dataDir();
        Path groupDir = raftDir.resolve(settings.raft().groupId().toString());
        if (!Files.isDirectory(groupDir)) {
            spec.commandLine()
                    .getErr()
                    .println(
                            "capstan: recover failed: "
                                    + groupDir
                                    + " does not exist; there is no Raft state to recover");
            return ExitCodes.FAILED;
        }
        long stamp = Clock.systemUTC().millis() / 1000;
        Path backup = raftDir.resolveSibling("recovered-" + stamp + ".snapshot");
        Path aside = raftDir.resolveSibling(raftDir.getFileName() + ".before-recover-" + stamp);
        try {
            exportState(settings, backup);
            Files.move(raftDir, aside);
            Backup.Contents restored = Backup.seed(backup, raftDir);
            spec.commandLine()
                    .getOut()
                    .printf(
                            "recovered member %s: revision %d, %d keys, %d leases%n"
                                    + "old Raft state kept in %s, backup in %s%n"
                                    + "start it with capstan serve and capstan.raft.peers = %s%n",
                            settings.node().id(),
                            restored.revision(),
                            restored.keys(),
                            restored.leases(),
                            aside,
                            backup,
                            settings.raft().peers());
            return ExitCodes.OK;
        } catch (IOException | ExecutionException | TimeoutException e) {
            spec.commandLine().getErr().println("capstan: recover failed: " + e.getMessage());
            return ExitCodes.FAILED;
        }
    }

    /** Runs the member's node alone until it applied what it knows committed, then backs it up. */
    private static void exportState(Settings settings, Path backup)
            throws IOException, InterruptedException, ExecutionException, TimeoutException {
        RaftNode raft =
                new RaftNode(
                        settings.raft(), new GrpcTransportBinding(), MonotonicClock.startingNow());
        try {
            raft.start().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            awaitApplied(raft);
            try (SnapshotExport export =
                    raft.admin().exportSnapshot().get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                writeBackup(export, backup);
            }
        } finally {
            raft.stop().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static void awaitApplied(RaftNode raft) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            NodeStatus status = raft.status();
            if (status.appliedIndex() >= status.commitIndex()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "applied index "
                                + status.appliedIndex()
                                + " did not reach commit index "
                                + status.commitIndex()
                                + " within "
                                + WAIT);
            }
            Thread.sleep(50);
        }
    }

    /** etcd's backup layout (see {@link SnapshotExport#writeBackup}), synced before it is used. */
    private static void writeBackup(SnapshotExport export, Path backup) throws IOException {
        try (FileChannel file =
                FileChannel.open(backup, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            export.writeBackup(Channels.newOutputStream(file));
            file.force(true);
        }
    }
}
