package io.capstan.controller;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * A test PKI in {@code dir}, made by the project's own {@code scripts/make-test-certs.sh}: a CA
 * ({@code ca.crt}), a member certificate for 127.0.0.1 followed by the CA ({@code node.crt}, {@code
 * node.key}) and a client certificate ({@code client.crt}, {@code client.key}).
 */
public record TestPki(Path dir) {
    private static final Path SCRIPT = Path.of("..", "scripts", "make-test-certs.sh");

    /** Runs the script into {@code dir}. */
    public static TestPki make(Path dir) throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder("bash", SCRIPT.toAbsolutePath().toString(), dir.toString())
                        .redirectErrorStream(true)
                        .start();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("make-test-certs.sh did not finish within a minute");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new AssertionError("make-test-certs.sh failed:\n" + output);
        }
        return new TestPki(dir);
    }

    public Path caCert() {
        return dir.resolve("ca.crt");
    }

    public Path nodeCert() {
        return dir.resolve("node.crt");
    }

    public Path nodeKey() {
        return dir.resolve("node.key");
    }

    public Path clientCert() {
        return dir.resolve("client.crt");
    }

    public Path clientKey() {
        return dir.resolve("client.key");
    }

    /**
     * The {@code capstan.tls} block serving the node certificate; with {@code mutual}, requiring
     * client certificates.
     */
    public String config(boolean mutual) {
        return String.join(
                "\n",
                "capstan.tls {",
                "  cert-file = \"" + nodeCert() + "\"",
                "  key-file = \"" + nodeKey() + "\"",
                "  client-ca-file = \"" + (mutual ? caCert() : "") + "\"",
                "}",
                "");
    }

    /**
     * CLI options that trust this CA and, with {@code clientCertificate}, present the client
     * certificate.
     */
    public List<String> cliOptions(boolean clientCertificate) {
        return clientCertificate
                ? List.of(
                        "--cacert",
                        caCert().toString(),
                        "--cert",
                        clientCert().toString(),
                        "--key",
                        clientKey().toString())
                : List.of("--cacert", caCert().toString());
    }

    /**
     * A context for jetcd (whose gRPC runs on unshaded Netty) that trusts {@code trusted}'s CA and
     * presents this PKI's client certificate, or none.
     */
    public SslContext jetcdContext(TestPki trusted, boolean clientCertificate) throws SSLException {
        SslContextBuilder builder =
                GrpcSslContexts.forClient().trustManager(trusted.caCert().toFile());
        if (clientCertificate) {
            builder.keyManager(clientCert().toFile(), clientKey().toFile());
        }
        return builder.build();
    }
}
