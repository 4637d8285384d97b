package io.capstan.web;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Builds JDK {@link SSLContext}s from keys and certificates already read and checked. Stateless.
 */
final class SslContexts {
    /** Protects the key only inside an in-memory key store that never leaves this class. */
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private SslContexts() {}

    /**
     * A TLS context that presents {@code identity} when asked (may be null: none) and trusts {@code
     * trusted} (empty: the JVM's default trust store).
     */
    static SSLContext create(TlsIdentity identity, List<X509Certificate> trusted) {
        return create(identity, trusted.isEmpty() ? null : trustManagers(trusted));
    }

    /**
     * As {@link #create(TlsIdentity, List)}, trusting through {@code trust} (null: the JVM's
     * default).
     */
    static SSLContext create(TlsIdentity identity, TrustManager[] trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(identity == null ? null : keyManagers(identity), trust, null);
            return context;
        } catch (GeneralSecurityException e) {
            // Every input was checked when the identity and certificates were read.
            throw new IllegalStateException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /** Trusts exactly {@code certificate} as a server's, whatever name it was reached by. */
    static TrustManager[] pinned(X509Certificate certificate) {
        return new TrustManager[] {new PinnedTrustManager(certificate)};
    }

    private static KeyManager[] keyManagers(TlsIdentity identity) throws GeneralSecurityException {
        KeyStore store = emptyStore();
        store.setKeyEntry(
                "identity",
                identity.key(),
                IN_MEMORY,
                identity.chain().toArray(new Certificate[0]));
        KeyManagerFactory factory =
                KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, IN_MEMORY);
        return factory.getKeyManagers();
    }

    private static TrustManager[] trustManagers(List<X509Certificate> trusted) {
        try {
            KeyStore store = emptyStore();
            for (int i = 0; i < trusted.size(); i++) {
                store.setCertificateEntry("ca-" + i, trusted.get(i));
            }
            TrustManagerFactory factory =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a trust store: " + e.getMessage(), e);
        }
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("an empty key store always loads", e);
        }
        return store;
    }

    /**
     * Accepts a server whose certificate is exactly the pinned one, by whatever address it was
     * reached (which is why it skips the host name check the JDK's own trust managers make: being
     * an {@link X509ExtendedTrustManager}, the JDK does not add one). Trusts no client.
     */
    private static final class PinnedTrustManager extends X509ExtendedTrustManager {
        private final X509Certificate pinned;

        PinnedTrustManager(X509Certificate pinned) {
            this.pinned = pinned;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            if (chain == null || chain.length == 0 || !chain[0].equals(pinned)) {
                throw new CertificateException("the server's certificate is not this member's own");
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw new CertificateException("a pinned trust manager trusts no client");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
