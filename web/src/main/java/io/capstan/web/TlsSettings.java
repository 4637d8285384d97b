package io.capstan.web;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;

/**
 * TLS on a member's listeners (the web port and the etcd API port), bound from {@code
 * capstan.tls.*}: the member's certificate and key, and the CAs whose client certificates the
 * listeners require. Immutable and thread-safe; {@link #toString()} never shows the key.
 *
 * <p>The member's certificate also authenticates it to its peers, as a TLS client: it must allow
 * both server and client use (an extended key usage, when it has one, naming {@code serverAuth},
 * and {@code clientAuth} when client certificates are required), and with client CAs it must chain
 * to one of them.
 *
 * @param identity this member's certificate chain and private key
 * @param clientCas the CAs a client certificate must chain to; empty: clients need none
 */
public record TlsSettings(TlsIdentity identity, List<X509Certificate> clientCas) {

    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String ANY_USAGE = "2.5.29.37.0";

    /**
     * @throws IllegalArgumentException when the certificate cannot serve as described above
     */
    public TlsSettings {
        Objects.requireNonNull(identity, "identity");
        clientCas = List.copyOf(Objects.requireNonNull(clientCas, "clientCas"));
        X509Certificate own = identity.certificate();
        allows(own, SERVER_AUTH, "serverAuth", "it serves TLS");
        if (!clientCas.isEmpty()) {
            allows(
                    own,
                    CLIENT_AUTH,
                    "clientAuth",
                    "members present it to each other as their client certificate");
            chainsTo(identity.chain(), clientCas);
        }
    }

    /** Whether the listeners require a client certificate that chains to {@link #clientCas}. */
    public boolean requiresClientCertificates() {
        return !clientCas.isEmpty();
    }

    /**
     * The listeners' context: presents this member's certificate, and trusts client certificates of
     * the client CAs.
     */
    public SSLContext serverContext() {
        return SslContexts.create(identity, clientCas);
    }

    /**
     * The context this member connects to its peers with: presents its certificate as a client
     * certificate and trusts peers' certificates that chain to {@link #peerCas()}, checking that
     * each names the host it was reached at.
     */
    public SSLContext peerContext() {
        return SslContexts.create(identity, peerCas());
    }

    /**
     * The CAs peers' certificates must chain to: the client CAs when there are any, else the CAs
     * that follow this member's certificate in its chain, else (empty) the JVM's default trust
     * store.
     */
    List<X509Certificate> peerCas() {
        if (!clientCas.isEmpty()) {
            return clientCas;
        }
        List<X509Certificate> chain = identity.chain();
        return chain.subList(1, chain.size());
    }

    /**
     * The context for this member's requests to its own listener (a watchdog probe): presents its
     * certificate and trusts exactly that certificate, at whatever address the listener is reached
     * (a wildcard bind is probed over loopback, which the certificate need not name).
     */
    public SSLContext selfContext() {
        return SslContexts.create(identity, SslContexts.pinned(identity.certificate()));
    }

    @Override
    public String toString() {
        return "TlsSettings["
                + identity
                + ", client CAs: "
                + clientCas.stream()
                        .map(TlsIdentity::subject)
                        .collect(Collectors.joining("; ", "[", "]"))
                + "]";
    }

    private static void allows(X509Certificate certificate, String usage, String name, String why) {
        List<String> usages;
        try {
            usages = certificate.getExtendedKeyUsage();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException(
                    "the certificate's extended key usage cannot be read: " + e.getMessage(), e);
        }
        if (usages != null && !usages.contains(usage) && !usages.contains(ANY_USAGE)) {
            throw new IllegalArgumentException(
                    "the certificate "
                            + TlsIdentity.subject(certificate)
                            + " has an extended key usage without "
                            + name
                            + ", which it needs because "
                            + why);
        }
    }

    /**
     * Validates the chain up to a client CA as TLS will: a mismatch shows at startup, not at the
     * first peer call.
     */
    private static void chainsTo(List<X509Certificate> chain, List<X509Certificate> cas) {
        List<X509Certificate> path = chain.stream().takeWhile(c -> !cas.contains(c)).toList();
        if (path.isEmpty()) {
            return;
        }
        try {
            Set<TrustAnchor> anchors =
                    cas.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet());
            PKIXParameters parameters = new PKIXParameters(anchors);
            // Revocation lists are not configured; the listeners do not check them either.
            parameters.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX")
                    .validate(
                            CertificateFactory.getInstance("X.509").generateCertPath(path),
                            parameters);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    "the certificate "
                            + TlsIdentity.subject(chain.get(0))
                            + " does not chain to a client CA ("
                            + e.getMessage()
                            + "), yet members present it to each"
                            + " other as their client certificate",
                    e);
        }
    }
}
