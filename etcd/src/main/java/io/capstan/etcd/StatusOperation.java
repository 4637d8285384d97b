package io.capstan.etcd;

import io.capstan.etcd.api.StatusRequest;
import io.capstan.etcd.api.StatusResponse;
import io.capstan.raft.NodeStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * etcd's Maintenance.Status for this member, shared by the gRPC service and the JSON gateway.
 *
 * <ul>
 *   <li>{@code version} is the etcd API level served, {@value #ETCD_VERSION}, which clients compare
 *       against to decide what they may call.
 *   <li>{@code dbSize} is approximate: the bytes of every file under the member's data directory
 *       (Raft log segments and snapshots), counted when asked. {@code dbSizeInUse} reports the
 *       same; Capstan keeps no free pages to subtract.
 *   <li>{@code raftIndex} is the commit index this member knows, {@code raftAppliedIndex} what it
 *       applied; {@code leader} is the leader's etcd member id, 0 with the error {@code etcdserver:
 *       no leader} when it knows none.
 *   <li>{@code isLearner} is true for a non-voting member (a Ratis listener).
 * </ul>
 *
 * <p>Counting the directory is blocking file I/O; it runs on the API executor. Immutable; safe on
 * any thread.
 */
final class StatusOperation {

    static final String ETCD_VERSION = "3.5.0";

    private final RaftCalls raft;
    private final Path dataDir;
    private final Executor executor;

    StatusOperation(RaftCalls raft, Path dataDir, Executor executor) {
        this.raft = raft;
        this.dataDir = dataDir;
        this.executor = executor;
    }

    CompletableFuture<StatusResponse> status(StatusRequest request) {
        CompletableFuture<Long> bytes = CompletableFuture.supplyAsync(this::dataDirBytes, executor);
        return raft.currentRevision()
                .thenCombine(
                        bytes,
                        (revision, size) -> {
                            NodeStatus status = raft.status();
                            StatusResponse.Builder response =
                                    StatusResponse.newBuilder()
                                            .setHeader(raft.header(revision))
                                            .setVersion(ETCD_VERSION)
                                            .setDbSize(size)
                                            .setDbSizeInUse(size)
                                            .setRaftIndex(status.commitIndex())
                                            .setRaftAppliedIndex(status.appliedIndex())
                                            .setRaftTerm(status.term())
                                            .setIsLearner(
                                                    status.role() == NodeStatus.Role.LISTENER);
                            status.leaderId()
                                    .ifPresentOrElse(
                                            leader -> response.setLeader(raft.memberIdOf(leader)),
                                            () ->
                                                    response.addErrors(
                                                            EtcdErrors.NO_LEADER.message()));
                            return response.build();
                        });
    }

    /**
     * Files that vanish while counting (Ratis rolls segments and purges snapshots) count as gone.
     */
    private long dataDirBytes() {
        long[] total = {0};
        try {
            Files.walkFileTree(
                    dataDir,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult visitFile(
                                Path file, BasicFileAttributes attributes) {
                            if (attributes.isRegularFile()) {
                                total[0] += attributes.size();
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            // The visitor skips whatever it cannot read, so this is not expected.
            throw new UncheckedIOException(e);
        }
        return total[0];
    }
}
