package io.capstan.web;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * A certificate chain and the private key of its first certificate: what a TLS endpoint presents,
 * as a server or as a client. Immutable and thread-safe; {@link #toString()} never shows the key.
 *
 * @param chain the certificate first, then the CAs that issued it, each issued by the next
 * @param key the private key of {@code chain.get(0)}
 */
public record TlsIdentity(List<X509Certificate> chain, PrivateKey key) {

    private static final byte[] CHALLENGE =
            "capstan key pair check".getBytes(StandardCharsets.US_ASCII);

    /**
     * @throws IllegalArgumentException when the chain is empty or out of order, or the key does not
     *     belong to its first certificate
     */
    public TlsIdentity {
        chain = List.copyOf(Objects.requireNonNull(chain, "chain"));
        Objects.requireNonNull(key, "key");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("the certificate chain is empty");
        }
        for (int i = 0; i + 1 < chain.size(); i++) {
            if (!chain.get(i)
                    .getIssuerX500Principal()
                    .equals(chain.get(i + 1).getSubjectX500Principal())) {
                throw new IllegalArgumentException(
                        "certificate "
                                + (i + 2)
                                + " ("
                                + subject(chain.get(i + 1))
                                + ") did not issue certificate "
                                + (i + 1)
                                + " ("
                                + subject(chain.get(i))
                                + "); write the certificate first, then each CA that issued the one before");
            }
        }
        if (!matches(key, chain.get(0).getPublicKey())) {
            throw new IllegalArgumentException(
                    "the private key ("
                            + key.getAlgorithm()
                            + ") does not belong to the certificate "
                            + subject(chain.get(0)));
        }
    }

    /** The certificate this identity presents. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /**
     * A client context that presents this identity when a server asks for a certificate and trusts
     * servers whose certificates chain to {@code trusted} (empty: the JVM's default trust store),
     * checking the host name as usual.
     */
    public SSLContext clientContext(List<X509Certificate> trusted) {
        return SslContexts.create(this, List.copyOf(trusted));
    }

    @Override
    public String toString() {
        return "TlsIdentity["
                + subject(chain.get(0))
                + ", "
                + chain.size()
                + " certificate(s), key "
                + key.getAlgorithm()
                + " (redacted)]";
    }

    static String subject(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }

    /**
     * Whether {@code key} is the private half of {@code publicKey}: RSA keys share their modulus;
     * for other kinds, a signature made with one verifies with the other.
     */
    private static boolean matches(PrivateKey key, PublicKey publicKey) {
        if (key instanceof RSAKey rsa) {
            return publicKey instanceof RSAKey other && rsa.getModulus().equals(other.getModulus());
        }
        String algorithm =
                switch (key.getAlgorithm()) {
                    case "EC" -> "SHA256withECDSA";
                    case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
                    default ->
                            throw new IllegalArgumentException(
                                    "the private key is of a kind Capstan does not support ("
                                            + key.getAlgorithm()
                                            + "); use RSA, EC or Ed25519");
                };
        if (!publicKey.getAlgorithm().equals(key.getAlgorithm())
                && !(algorithm.equals("EdDSA") && publicKey.getAlgorithm().startsWith("Ed"))) {
            return false;
        }
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(CHALLENGE);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(CHALLENGE);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
