package io.capstan.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Supplies a started 3-member {@link RaftCluster} to any test method parameter of that type:
 * ephemeral loopback ports, a fresh temporary directory, Ratis's gRPC transport. The cluster is
 * stopped and its directory deleted after the test, pass or fail. A test method annotated {@link
 * SnapshotTuning} gets settings that make snapshots and log purging happen quickly.
 */
final class RaftClusterExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(RaftClusterExtension.class);

    /** Small log segments, nothing kept behind a snapshot: lagging members need a snapshot. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface SnapshotTuning {}

    /** As {@link SnapshotTuning}, and Ratis takes a snapshot by itself every 200 entries. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface AutoSnapshots {}

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == RaftCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        boolean snapshots =
                context.getRequiredTestMethod().isAnnotationPresent(SnapshotTuning.class);
        boolean auto = context.getRequiredTestMethod().isAnnotationPresent(AutoSnapshots.class);
        UnaryOperator<RaftSettings.Builder> tune =
                snapshots || auto
                        ? b ->
                                b.logSegmentBytes(4096)
                                        .logEntriesKeptAfterSnapshot(0)
                                        .snapshotThreshold(auto ? 200 : 1_000_000)
                        : UnaryOperator.identity();
        try {
            Path root = Files.createTempDirectory("capstan-raft-");
            RaftCluster cluster = new RaftCluster(root, 3, new GrpcTransportBinding(), tune);
            context.getStore(NAMESPACE).put("cluster", new Resource(cluster, root));
            cluster.startAll();
            return cluster;
        } catch (IOException e) {
            throw new ParameterResolutionException("cannot create the cluster's directory", e);
        }
    }

    /** Closed by JUnit when the test's extension context closes. */
    private record Resource(RaftCluster cluster, Path root) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                cluster.close();
            } finally {
                deleteTree(root);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        Files.walkFileTree(
                root,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                            throws IOException {
                        Files.delete(file);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path dir, IOException e)
                            throws IOException {
                        if (e != null) {
                            throw new UncheckedIOException(e);
                        }
                        Files.delete(dir);
                        return FileVisitResult.CONTINUE;
                    }
                });
    }
}
