package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test PKI in {@code dir}, made by the project's own {@code scripts/make-test-certs.sh}: a CA, a
 * node certificate for 127.0.0.1 and localhost (followed by the CA), and a client certificate.
 */
record TestPki(Path dir) {
    private static final Path SCRIPT = Path.of("..", "scripts", "make-test-certs.sh");

    /** Runs the script into {@code dir}; fails the test with its output when it fails. */
    static TestPki make(Path dir, String... hosts) throws IOException, InterruptedException {
        Run run = script(dir, hosts);
        assertEquals(0, run.exit(), () -> "make-test-certs.sh failed:\n" + run.output());
        return new TestPki(dir);
    }

    /** The script's exit code and output. */
    record Run(int exit, String output) {}

    static Run script(Path dir, String... hosts) throws IOException, InterruptedException {
        List<String> args =
                new ArrayList<>(List.of(SCRIPT.toAbsolutePath().toString(), dir.toString()));
        args.addAll(List.of(hosts));
        return run(dir.getParent(), "bash", args.toArray(String[]::new));
    }

    /** Runs {@code command} in {@code workDir}, at most a minute. */
    static Run run(Path workDir, String program, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(program));
        command.addAll(List.of(args));
        Process process =
                new ProcessBuilder(command)
                        .directory(workDir.toFile())
                        .redirectErrorStream(true)
                        .start();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within a minute");
        }
        return new Run(
                process.exitValue(),
                new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** Runs openssl with {@code args} in this PKI's directory; fails the test when it fails. */
    void openssl(String... args) throws IOException, InterruptedException {
        Run run = run(dir, "openssl", args);
        assertEquals(
                0,
                run.exit(),
                () -> "openssl " + String.join(" ", args) + " failed:\n" + run.output());
    }

    Path caCert() {
        return dir.resolve("ca.crt");
    }

    Path nodeCert() {
        return dir.resolve("node.crt");
    }

    Path nodeKey() {
        return dir.resolve("node.key");
    }

    Path clientCert() {
        return dir.resolve("client.crt");
    }

    Path clientKey() {
        return dir.resolve("client.key");
    }

    List<X509Certificate> ca() throws IOException, GeneralSecurityException {
        return PemFiles.certificates(caCert());
    }

    TlsIdentity node() throws IOException, GeneralSecurityException {
        return new TlsIdentity(PemFiles.certificates(nodeCert()), PemFiles.privateKey(nodeKey()));
    }

    TlsIdentity client() throws IOException, GeneralSecurityException {
        return new TlsIdentity(
                PemFiles.certificates(clientCert()), PemFiles.privateKey(clientKey()));
    }
}
