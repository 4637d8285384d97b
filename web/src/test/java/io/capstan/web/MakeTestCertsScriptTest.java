package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/make-test-certs.sh}: the names it certifies, the files it writes, a CA kept across
 * runs.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MakeTestCertsScriptTest {
    @TempDir Path dir;

    @Test
    void theNodeCertificateNamesLoopbackAndTheGivenHosts() throws Exception {
        TestPki pki = TestPki.make(dir.resolve("pki"), "capstan-1.example", "10.1.2.3");

        X509Certificate node = pki.node().certificate();
        Set<String> names = new HashSet<>();
        node.getSubjectAlternativeNames().forEach(name -> names.add(name.get(1).toString()));
        assertEquals(
                Set.of(
                        "localhost",
                        "127.0.0.1",
                        "0:0:0:0:0:0:0:1",
                        "capstan-1.example",
                        "10.1.2.3"),
                names);
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), node.getExtendedKeyUsage());
        node.verify(pki.ca().get(0).getPublicKey());
        X509Certificate client = pki.client().certificate();
        client.verify(pki.ca().get(0).getPublicKey());
        assertEquals(List.of("1.3.6.1.5.5.7.3.2"), client.getExtendedKeyUsage());
        for (String key : List.of("ca.key", "node.key", "client.key")) {
            assertEquals(
                    "rw-------",
                    PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(pki.dir().resolve(key))));
        }
    }

    @Test
    void aSecondRunKeepsTheCaAndIssuesNewCertificates() throws Exception {
        TestPki first = TestPki.make(dir.resolve("pki"));
        X509Certificate ca = first.ca().get(0);
        X509Certificate node = first.node().certificate();

        TestPki second = TestPki.make(dir.resolve("pki"), "10.9.9.9");

        assertEquals(ca, second.ca().get(0));
        assertTrue(!node.equals(second.node().certificate()));
        second.node().certificate().verify(ca.getPublicKey());
    }

    @Test
    void aBadHostOrNoDirectoryIsAUsageError() throws Exception {
        TestPki.Run bad = TestPki.script(dir.resolve("pki"), "bad host;rm");
        assertEquals(2, bad.exit(), bad.output());
        assertTrue(bad.output().contains("is not a host name or IP address"), bad.output());
        assertTrue(!Files.exists(dir.resolve("pki")));

        TestPki.Run none =
                TestPki.run(
                        dir,
                        "bash",
                        Path.of("..", "scripts", "make-test-certs.sh").toAbsolutePath().toString());
        assertEquals(2, none.exit(), none.output());
        assertTrue(none.output().contains("usage:"), none.output());
    }
}
