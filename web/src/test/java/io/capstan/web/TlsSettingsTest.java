package io.capstan.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a member's certificate must allow, and whom the member trusts as its peers. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsSettingsTest {
    @TempDir static Path dir;

    private static TestPki pki;
    private static TestPki other;

    @BeforeAll
    static void makePki() throws Exception {
        pki = TestPki.make(dir.resolve("pki"));
        other = TestPki.make(dir.resolve("other"));
    }

    @Test
    void aNodeCertificateServesWithAndWithoutClientCas() throws Exception {
        TlsSettings plain = new TlsSettings(pki.node(), List.of());
        assertFalse(plain.requiresClientCertificates());
        // No client CAs: peers are trusted through the CA that follows the certificate in its file.
        assertEquals(pki.ca(), plain.peerCas());

        TlsSettings mutual = new TlsSettings(pki.node(), pki.ca());
        assertTrue(mutual.requiresClientCertificates());
        assertEquals(pki.ca(), mutual.peerCas());
        assertTrue(mutual.toString().contains("(redacted)"), mutual.toString());
    }

    @Test
    void aCertificateWithoutTheCaInItsFileTrustsTheJvmDefaultsForPeers() throws Exception {
        TlsIdentity leafOnly = new TlsIdentity(List.of(pki.node().certificate()), pki.node().key());

        assertEquals(List.of(), new TlsSettings(leafOnly, List.of()).peerCas());
        // With client CAs, a leaf alone chains to them.
        new TlsSettings(leafOnly, pki.ca());
    }

    @Test
    void aClientOnlyCertificateCannotServe() throws Exception {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new TlsSettings(pki.client(), List.of()));
        assertTrue(
                e.getMessage().contains("extended key usage without serverAuth"), e.getMessage());
    }

    @Test
    void withClientCasTheMembersCertificateMustChainToOne() throws Exception {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new TlsSettings(pki.node(), other.ca()));
        assertTrue(e.getMessage().contains("does not chain to a client CA"), e.getMessage());
        assertTrue(e.getMessage().contains("as their client certificate"), e.getMessage());
    }
}
