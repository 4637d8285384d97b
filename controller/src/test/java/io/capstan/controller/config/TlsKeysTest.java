package io.capstan.controller.config;

import static io.capstan.controller.config.ConfigFiles.assertProblem;
import static io.capstan.controller.config.ConfigFiles.describe;
import static io.capstan.controller.config.ConfigFiles.load;
import static io.capstan.controller.config.ConfigFiles.problems;
import static io.capstan.controller.config.ConfigFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.controller.TestPki;
import io.capstan.web.TlsSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capstan.tls.*}: off by default; the files are read and checked while the configuration
 * binds, and every problem names its key and its file.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsKeysTest {
    private static final String CERT = "capstan.tls.cert-file";
    private static final String KEY = "capstan.tls.key-file";
    private static final String CLIENT_CA = "capstan.tls.client-ca-file";

    @TempDir static Path pkis;

    private static TestPki pki;
    private static TestPki other;

    @TempDir Path dir;

    @BeforeAll
    static void makePki() throws Exception {
        pki = TestPki.make(pkis.resolve("pki"));
        other = TestPki.make(pkis.resolve("other"));
    }

    private Path config(String hocon) {
        return write(dir, "node.conf", hocon);
    }

    private static String tls(Object cert, Object key, Object clientCa) {
        return "capstan.tls { cert-file = \""
                + cert
                + "\", key-file = \""
                + key
                + "\", client-ca-file = \""
                + clientCa
                + "\" }\n";
    }

    private List<Problem> problemsOf(String hocon) {
        return problems(Optional.of(config(hocon)), Map.of());
    }

    @Test
    void tlsIsOffByDefault() {
        assertEquals(Optional.empty(), load(config(""), Map.of()).tls());
    }

    @Test
    void aCertificateAndItsKeyBindWithOrWithoutClientCas() throws Exception {
        TlsSettings plain = load(config(pki.config(false)), Map.of()).tls().orElseThrow();
        assertFalse(plain.requiresClientCertificates());
        assertEquals(2, plain.identity().chain().size());

        Settings mutual = load(config(pki.config(true)), Map.of());
        assertTrue(mutual.tls().orElseThrow().requiresClientCertificates());
        String key =
                Base64.getEncoder()
                        .encodeToString(mutual.tls().orElseThrow().identity().key().getEncoded());
        assertFalse(
                mutual.toString().contains(key.substring(0, 40)), "settings print without the key");
        assertTrue(mutual.toString().contains("(redacted)"), mutual.toString());
    }

    @Test
    void halfAConfigurationNamesTheMissingKey() {
        assertProblem(
                problemsOf(tls(pki.nodeCert(), "", "")),
                KEY,
                "\"\"",
                "must name the private key of capstan.tls.cert-file (" + pki.nodeCert() + ")",
                "node.conf:1");
        assertProblem(
                problemsOf(tls("", pki.nodeKey(), "")),
                CERT,
                "\"\"",
                "must name the certificate whose private key capstan.tls.key-file holds");
        List<Problem> caAlone = problemsOf(tls("", "", pki.caCert()));
        assertProblem(
                caAlone,
                CLIENT_CA,
                "\"" + pki.caCert() + "\"",
                "needs capstan.tls.cert-file and capstan.tls.key-file",
                "node.conf:1");
        assertEquals(1, caAlone.size(), describe(caAlone));
    }

    @Test
    void everyUnreadableFileIsReportedAtOnceWithWhatItMustHold() throws Exception {
        Path missing = dir.resolve("missing.crt");
        Path directory = Files.createDirectory(dir.resolve("cas"));

        List<Problem> problems = problemsOf(tls(missing, pki.nodeCert(), directory));

        assertProblem(
                problems,
                CERT,
                "\"" + missing + "\"",
                "no such file",
                "must name a readable PEM file holding this member's certificate, then the CAs that issued it");
        assertProblem(
                problems,
                KEY,
                "\"" + pki.nodeCert() + "\"",
                "holds no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) (it holds: CERTIFICATE)",
                "unencrypted private key");
        assertProblem(
                problems, CLIENT_CA, "\"" + directory + "\"", "is a directory", "CA certificates");
        assertEquals(3, problems.size(), describe(problems));
    }

    @Test
    void aKeyOfAnotherCertificateIsNamedOnTheKey() {
        List<Problem> problems = problemsOf(tls(pki.nodeCert(), pki.clientKey(), ""));

        assertProblem(
                problems,
                KEY,
                "\"" + pki.clientKey() + "\"",
                "does not belong to the certificate CN=capstan-node",
                "in capstan.tls.cert-file (" + pki.nodeCert() + ")");
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void withClientCasTheCertificateMustChainToOne() {
        List<Problem> problems = problemsOf(tls(pki.nodeCert(), pki.nodeKey(), other.caCert()));

        assertProblem(
                problems,
                CERT,
                "\"" + pki.nodeCert() + "\"",
                "does not chain to a client CA",
                "as their client certificate",
                "capstan.tls.client-ca-file = " + other.caCert());
        assertEquals(1, problems.size(), describe(problems));
    }

    @Test
    void aClientCertificateCannotServe() {
        List<Problem> problems = problemsOf(tls(pki.clientCert(), pki.clientKey(), ""));

        assertProblem(
                problems,
                CERT,
                "\"" + pki.clientCert() + "\"",
                "extended key usage without serverAuth");
    }
}
