package io.capstan.controller.config;

import io.capstan.web.PemFiles;
import io.capstan.web.TlsIdentity;
import io.capstan.web.TlsSettings;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * {@code capstan.tls.*}: the member's certificate, its key and the client CAs, read while the
 * configuration binds, so an unreadable, malformed or mismatched file stops the daemon before
 * anything starts. Each problem names the key whose file is wrong, the file, and what it must hold;
 * never the key's content.
 */
final class TlsFiles {
    static final String CERT = "capstan.tls.cert-file";
    static final String KEY = "capstan.tls.key-file";
    static final String CLIENT_CA = "capstan.tls.client-ca-file";

    private static final String CERT_RULE =
            "must name a readable PEM file holding this member's certificate,"
                    + " then the CAs that issued it";
    private static final String KEY_RULE =
            "must name a readable PEM file holding the unencrypted private key of"
                    + " the certificate in "
                    + CERT;
    private static final String CLIENT_CA_RULE =
            "must name a readable PEM file of the CA certificates that client"
                    + " certificates must chain to";

    private TlsFiles() {}

    /** A PEM reader of one kind. */
    @FunctionalInterface
    private interface Reader<T> {
        T read(Path file) throws IOException, GeneralSecurityException;
    }

    /**
     * The TLS settings the three keys describe: empty inside when TLS is off (cert-file and
     * key-file both ""), empty outside when a problem was reported. Each argument is a key's bound
     * path, "" being an empty path, or empty when the key itself did not bind.
     */
    static Optional<Optional<TlsSettings>> read(
            ConfigReader r,
            Optional<Optional<Path>> certFile,
            Optional<Optional<Path>> keyFile,
            Optional<Optional<Path>> caFile) {
        if (certFile.isEmpty() || keyFile.isEmpty() || caFile.isEmpty()) {
            return Optional.empty();
        }
        Optional<Path> cert = certFile.get();
        Optional<Path> key = keyFile.get();
        Optional<Path> ca = caFile.get();
        if (cert.isEmpty() && key.isEmpty()) {
            if (ca.isPresent()) {
                r.problem(
                        CLIENT_CA,
                        r.valueAt(CLIENT_CA),
                        "needs "
                                + CERT
                                + " and "
                                + KEY
                                + ": client certificates are asked for only over TLS");
                return Optional.empty();
            }
            return Optional.of(Optional.empty());
        }
        if (key.isEmpty()) {
            r.problem(
                    KEY,
                    r.valueAt(KEY),
                    "must name the private key of " + CERT + " (" + cert.get() + ")");
        }
        if (cert.isEmpty()) {
            r.problem(
                    CERT,
                    r.valueAt(CERT),
                    "must name the certificate whose private key "
                            + KEY
                            + " holds ("
                            + key.get()
                            + ")");
        }
        Optional<List<X509Certificate>> chain =
                cert.flatMap(f -> read(r, CERT, f, PemFiles::certificates, CERT_RULE));
        Optional<PrivateKey> privateKey =
                key.flatMap(f -> read(r, KEY, f, PemFiles::privateKey, KEY_RULE));
        Optional<List<X509Certificate>> clientCas =
                ca.isEmpty()
                        ? Optional.of(List.of())
                        : read(r, CLIENT_CA, ca.get(), PemFiles::certificates, CLIENT_CA_RULE);
        if (chain.isEmpty() || privateKey.isEmpty() || clientCas.isEmpty()) {
            return Optional.empty();
        }
        TlsIdentity identity;
        try {
            identity = new TlsIdentity(chain.get(), privateKey.get());
        } catch (IllegalArgumentException e) {
            // The identity refuses a key that is not the certificate's, or a chain out of order.
            boolean aboutKey = e.getMessage().startsWith("the private key");
            String problemKey = aboutKey ? KEY : CERT;
            r.problem(
                    problemKey,
                    r.valueAt(problemKey),
                    aboutKey
                            ? e.getMessage() + " in " + CERT + " (" + absolute(cert.get()) + ")"
                            : "the file (" + absolute(cert.get()) + "): " + e.getMessage());
            return Optional.empty();
        }
        try {
            return Optional.of(Optional.of(new TlsSettings(identity, clientCas.get())));
        } catch (IllegalArgumentException e) {
            r.problem(
                    CERT,
                    r.valueAt(CERT),
                    e.getMessage() + ca.map(f -> " (" + CLIENT_CA + " = " + f + ")").orElse(""));
            return Optional.empty();
        }
    }

    private static <T> Optional<T> read(
            ConfigReader r, String key, Path file, Reader<T> reader, String rule) {
        String what;
        try {
            if (Files.isDirectory(file)) {
                what = "is a directory";
            } else {
                return Optional.of(reader.read(file));
            }
        } catch (NoSuchFileException e) {
            what = "no such file";
        } catch (AccessDeniedException e) {
            what = "is not readable by this process";
        } catch (IOException e) {
            what = "cannot be read (" + e.getMessage() + ")";
        } catch (GeneralSecurityException e) {
            what = e.getMessage();
        }
        String where = file.isAbsolute() ? "" : " (" + absolute(file) + ")";
        r.problem(key, r.valueAt(key), "the file" + where + " " + what + "; " + rule);
        return Optional.empty();
    }

    private static Path absolute(Path file) {
        return file.toAbsolutePath().normalize();
    }
}
