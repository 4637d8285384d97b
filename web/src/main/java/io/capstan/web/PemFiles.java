package io.capstan.web;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files TLS is configured with, using the JDK alone: certificates ({@code
 * CERTIFICATE} blocks, in file order) and one unencrypted private key, as PKCS#8 ({@code PRIVATE
 * KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC 1 ({@code EC PRIVATE KEY}); RSA, EC and EdDSA
 * keys. Text outside the blocks (openssl's "Bag Attributes", comments) is ignored, as are blocks of
 * other types ({@code EC PARAMETERS}).
 *
 * <p>Failures say what is wrong with the file in words an operator can act on: an {@link
 * IOException} when it cannot be read, a {@link GeneralSecurityException} when its content is not
 * what is expected. Stateless.
 */
public final class PemFiles {
    /** PEM files of certificates and keys are a few KiB; a larger file is surely the wrong one. */
    static final long MAX_FILE_BYTES = 1 << 20;

    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final String CERTIFICATE = "CERTIFICATE";
    private static final String PKCS8 = "PRIVATE KEY";
    private static final String PKCS1 = "RSA PRIVATE KEY";
    private static final String SEC1 = "EC PRIVATE KEY";
    private static final String ENCRYPTED = "ENCRYPTED PRIVATE KEY";
    // KeyFactory names tried in turn on a PKCS#8 key; each refuses the others' keys.
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "EdDSA", "RSASSA-PSS");

    private PemFiles() {}

    /**
     * Every certificate in {@code file}, in the order written (for a certificate file: the member's
     * own certificate first, then the CAs that issued it).
     *
     * @throws GeneralSecurityException when the file holds no certificate or a malformed one
     */
    public static List<X509Certificate> certificates(Path file)
            throws IOException, GeneralSecurityException {
        List<Block> blocks = blocks(file);
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> certificates = new ArrayList<>();
        for (Block block : blocks) {
            if (!block.type().equals(CERTIFICATE)) {
                continue;
            }
            try {
                certificates.add(
                        (X509Certificate)
                                factory.generateCertificate(new ByteArrayInputStream(block.der())));
            } catch (CertificateException e) {
                throw new CertificateException(
                        "certificate "
                                + (certificates.size() + 1)
                                + " is not a valid X.509 certificate ("
                                + e.getMessage()
                                + ")",
                        e);
            }
        }
        if (certificates.isEmpty()) {
            throw new CertificateException("holds no PEM CERTIFICATE block" + found(blocks));
        }
        return List.copyOf(certificates);
    }

    /**
     * The one private key in {@code file}.
     *
     * @throws GeneralSecurityException when the file holds no key, several, an encrypted one, or
     *     one of an unsupported kind
     */
    public static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        List<Block> blocks = blocks(file);
        List<Block> keys = blocks.stream().filter(b -> b.type().endsWith(PKCS8)).toList();
        if (keys.isEmpty()) {
            throw new InvalidKeySpecException(
                    "holds no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY"
                            + " or EC PRIVATE KEY)"
                            + found(blocks));
        }
        if (keys.size() > 1) {
            throw new InvalidKeySpecException(
                    "holds " + keys.size() + " private keys; expected one");
        }
        Block key = keys.get(0);
        if (key.type().equals(ENCRYPTED) || key.encrypted()) {
            throw new InvalidKeySpecException(
                    "holds an encrypted private key; Capstan reads unencrypted keys"
                            + " only (decrypt it with `openssl pkey -in KEY -out PLAIN_KEY`, mode 600)");
        }
        try {
            return switch (key.type()) {
                case PKCS8 -> pkcs8(key.der());
                case PKCS1 ->
                        KeyFactory.getInstance("RSA")
                                .generatePrivate(
                                        new PKCS8EncodedKeySpec(
                                                Der.pkcs8(
                                                        Der.RSA_ENCRYPTION, Der.NULL, key.der())));
                case SEC1 ->
                        KeyFactory.getInstance("EC")
                                .generatePrivate(
                                        new PKCS8EncodedKeySpec(
                                                Der.pkcs8(
                                                        Der.EC_PUBLIC_KEY,
                                                        Der.sec1Curve(key.der()),
                                                        key.der())));
                default ->
                        throw new InvalidKeySpecException(
                                "holds a "
                                        + key.type()
                                        + " block, which Capstan cannot read; convert it to PKCS#8 with"
                                        + " `openssl pkcs8 -topk8 -nocrypt -in KEY -out PKCS8_KEY`");
            };
        } catch (InvalidKeySpecException | IllegalArgumentException e) {
            throw new InvalidKeySpecException(
                    "its " + key.type() + " block is not a valid key (" + e.getMessage() + ")", e);
        }
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm)
                        .generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (InvalidKeySpecException | NoSuchAlgorithmException e) {
                // not this kind of key; try the next
            }
        }
        throw new InvalidKeySpecException("not a PKCS#8 RSA, EC or EdDSA key");
    }

    /**
     * One {@code -----BEGIN TYPE-----} block: its type, its decoded bytes, whether its headers say
     * encrypted.
     */
    private record Block(String type, byte[] der, boolean encrypted) {}

    private static List<Block> blocks(Path file) throws IOException, GeneralSecurityException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new GeneralSecurityException(
                    "holds "
                            + size
                            + " bytes, more than a PEM file of keys and"
                            + " certificates (at most "
                            + MAX_FILE_BYTES
                            + ")");
        }
        String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String body = m.group(2);
            // Legacy OpenSSL encryption writes "Proc-Type: 4,ENCRYPTED" headers inside the block.
            boolean encrypted = body.contains("ENCRYPTED");
            int headers = body.lastIndexOf(':');
            String base64 = headers < 0 ? body : body.substring(body.indexOf('\n', headers) + 1);
            try {
                blocks.add(
                        new Block(
                                m.group(1),
                                Base64.getMimeDecoder().decode(base64.strip()),
                                encrypted));
            } catch (IllegalArgumentException e) {
                throw new GeneralSecurityException(
                        "its " + m.group(1) + " block is not valid base64");
            }
        }
        if (blocks.isEmpty()) {
            throw new GeneralSecurityException("is not a PEM file (no -----BEGIN ...----- block)");
        }
        return blocks;
    }

    private static String found(List<Block> blocks) {
        Set<String> types = new LinkedHashSet<>();
        blocks.forEach(b -> types.add(b.type()));
        return " (it holds: " + String.join(", ", types) + ")";
    }
}
