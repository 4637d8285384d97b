package io.capstan.etcd;

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
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Supplies an {@link EtcdCluster} to test method parameters of that type. One cluster serves every
 * test of a class (tests keep to keys of their own): it starts on the first test that asks for it
 * and is closed, with its temporary directory deleted, when the class's tests are done, pass or
 * fail. By default 3 members all start; {@link Shape} on the class changes that, or asks for one
 * member without Raft ({@link EtcdCluster#local}).
 */
final class EtcdClusterExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(EtcdClusterExtension.class);

    /**
     * How many members to start, and how long one Raft call may take (retries included: three times
     * this).
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @interface Shape {
        int started() default 3;

        long requestTimeoutMillis() default 3000;

        /**
         * One member on an in-memory keyspace instead of a Raft group: for tests not about
         * replication.
         */
        boolean local() default false;
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EtcdCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        Class<?> testClass = classContext.getRequiredTestClass();
        return classContext
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent("cluster", key -> start(testClass), Resource.class)
                .cluster();
    }

    private static Resource start(Class<?> testClass) {
        Shape shape = testClass.getAnnotation(Shape.class);
        int started = shape == null ? 3 : shape.started();
        Duration requestTimeout =
                Duration.ofMillis(shape == null ? 3000 : shape.requestTimeoutMillis());
        try {
            Path root = Files.createTempDirectory("capstan-etcd-");
            try {
                EtcdCluster cluster =
                        shape != null && shape.local()
                                ? EtcdCluster.local(root, EtcdCluster.AUTH)
                                : new EtcdCluster(root, 3, started, requestTimeout);
                return new Resource(cluster, root);
            } catch (RuntimeException e) {
                deleteTree(root);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the cluster's directory", e);
        }
    }

    /** Closed by JUnit when the class's extension context closes. */
    private record Resource(EtcdCluster cluster, Path root) implements AutoCloseable {
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
                            throw e;
                        }
                        Files.delete(dir);
                        return FileVisitResult.CONTINUE;
                    }
                });
    }
}
