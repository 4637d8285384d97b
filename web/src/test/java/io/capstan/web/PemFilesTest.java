package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEM certificates and keys as openssl writes them (PKCS#8, PKCS#1, SEC 1; EC, RSA, Ed25519), the
 * checks that pair a key with its certificate, and the messages for the files people get wrong.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PemFilesTest {
    @TempDir static Path dir;

    private static TestPki pki;

    @BeforeAll
    static void makePki() throws Exception {
        pki = TestPki.make(dir.resolve("pki"));
    }

    private static String message(Executable read) {
        return assertThrows(GeneralSecurityException.class, read::run).getMessage();
    }

    /** A read that is expected to fail. */
    @FunctionalInterface
    private interface Executable {
        void run() throws Exception;
    }

    @Test
    void theScriptsNodeCertificateIsItsChainAndItsKeyIsPkcs8() throws Exception {
        List<X509Certificate> chain = PemFiles.certificates(pki.nodeCert());
        List<X509Certificate> ca = pki.ca();

        assertEquals(2, chain.size());
        assertEquals(ca.get(0), chain.get(1));
        assertTrue(Files.readString(pki.nodeKey()).startsWith("-----BEGIN PRIVATE KEY-----"));
        TlsIdentity node = new TlsIdentity(chain, PemFiles.privateKey(pki.nodeKey()));
        assertEquals("EC", node.key().getAlgorithm());
        assertEquals(chain.get(0), node.certificate());
        assertEquals(
                "TlsIdentity[CN=capstan-node,O=Capstan test, 2 certificate(s), key EC (redacted)]",
                node.toString());
    }

    @Test
    void anSec1EcKeyReadsAsTheSameKey() throws Exception {
        pki.openssl("ec", "-in", "node.key", "-out", "node-sec1.key");
        assertTrue(
                Files.readString(dir.resolve("pki/node-sec1.key"))
                        .contains("-----BEGIN EC PRIVATE KEY-----"));

        PrivateKey sec1 = PemFiles.privateKey(dir.resolve("pki/node-sec1.key"));

        assertEquals(
                ((ECPrivateKey) PemFiles.privateKey(pki.nodeKey())).getS(),
                ((ECPrivateKey) sec1).getS());
        new TlsIdentity(PemFiles.certificates(pki.nodeCert()), sec1);
    }

    @Test
    void aPkcs1RsaKeyAndAnEd25519KeyMatchTheirCertificates() throws Exception {
        pki.openssl("genrsa", "-traditional", "-out", "rsa.key", "2048");
        pki.openssl(
                "req", "-x509", "-new", "-key", "rsa.key", "-out", "rsa.crt", "-days", "2", "-subj",
                "/CN=rsa");
        assertTrue(
                Files.readString(dir.resolve("pki/rsa.key"))
                        .contains("-----BEGIN RSA PRIVATE KEY-----"));
        TlsIdentity rsa =
                new TlsIdentity(
                        PemFiles.certificates(dir.resolve("pki/rsa.crt")),
                        PemFiles.privateKey(dir.resolve("pki/rsa.key")));
        assertEquals("RSA", rsa.key().getAlgorithm());

        pki.openssl("genpkey", "-algorithm", "ed25519", "-out", "ed.key");
        pki.openssl(
                "req", "-x509", "-new", "-key", "ed.key", "-out", "ed.crt", "-days", "2", "-subj",
                "/CN=ed");
        new TlsIdentity(
                PemFiles.certificates(dir.resolve("pki/ed.crt")),
                PemFiles.privateKey(dir.resolve("pki/ed.key")));
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new TlsIdentity(
                                        PemFiles.certificates(pki.nodeCert()),
                                        PemFiles.privateKey(pki.clientKey())));
        assertTrue(
                e.getMessage()
                        .contains(
                                "does not belong to the certificate CN=capstan-node,O=Capstan test"),
                e.getMessage());

        pki.openssl("genrsa", "-out", "other-rsa.key", "2048");
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new TlsIdentity(
                                PemFiles.certificates(pki.nodeCert()),
                                PemFiles.privateKey(dir.resolve("pki/other-rsa.key"))));
    }

    @Test
    void aChainOutOfOrderIsRefused() throws Exception {
        List<X509Certificate> chain = PemFiles.certificates(pki.nodeCert());

        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new TlsIdentity(
                                        List.of(
                                                chain.get(0),
                                                PemFiles.certificates(pki.clientCert()).get(0)),
                                        PemFiles.privateKey(pki.nodeKey())));
        assertTrue(e.getMessage().contains("did not issue certificate 1"), e.getMessage());
    }

    @Test
    void anEncryptedKeyIsRefusedWithAWayOut() throws Exception {
        pki.openssl(
                "pkcs8",
                "-topk8",
                "-in",
                "node.key",
                "-out",
                "encrypted.key",
                "-passout",
                "pass:secret");
        assertTrue(
                message(() -> PemFiles.privateKey(dir.resolve("pki/encrypted.key")))
                        .contains("encrypted private key; Capstan reads unencrypted keys only"));

        pki.openssl(
                "genrsa",
                "-traditional",
                "-aes256",
                "-passout",
                "pass:secret",
                "-out",
                "legacy.key",
                "2048");
        assertTrue(
                message(() -> PemFiles.privateKey(dir.resolve("pki/legacy.key")))
                        .contains("encrypted"));
    }

    @Test
    void filesMixedUpSayWhatTheyHold() throws Exception {
        assertEquals(
                "holds no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
                        + " (it holds: CERTIFICATE)",
                message(() -> PemFiles.privateKey(pki.nodeCert())));
        assertEquals(
                "holds no PEM CERTIFICATE block (it holds: PRIVATE KEY)",
                message(() -> PemFiles.certificates(pki.nodeKey())));

        Path garbage =
                Files.write(
                        dir.resolve("garbage.der"),
                        new byte[] {0x30, (byte) 0x82, 0x01, 0x00, 0x7f});
        assertEquals(
                "is not a PEM file (no -----BEGIN ...----- block)",
                message(() -> PemFiles.certificates(garbage)));

        Path twoKeys =
                Files.writeString(
                        dir.resolve("two.key"),
                        Files.readString(pki.nodeKey()) + Files.readString(pki.clientKey()));
        assertEquals(
                "holds 2 private keys; expected one", message(() -> PemFiles.privateKey(twoKeys)));

        Path broken =
                Files.writeString(
                        dir.resolve("broken.crt"),
                        "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n");
        assertTrue(
                message(() -> PemFiles.certificates(broken))
                        .startsWith("certificate 1 is not a valid X.509"));
    }
}
