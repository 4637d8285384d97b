package io.capstan.web;

import java.io.ByteArrayOutputStream;

/**
 * The little ASN.1 DER that turning a PKCS#1 or SEC 1 private key into PKCS#8 takes (the only
 * encoding the JDK's key factories read): wrap a key in a {@code PrivateKeyInfo}, and find the
 * curve a SEC 1 key names. Single-byte tags only, which is all these structures use. Stateless;
 * malformed input is an {@link IllegalArgumentException}.
 */
final class Der {
    /** OID 1.2.840.113549.1.1.1, rsaEncryption. */
    static final byte[] RSA_ENCRYPTION = {
        0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01
    };

    /** OID 1.2.840.10045.2.1, id-ecPublicKey. */
    static final byte[] EC_PUBLIC_KEY = {
        0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
    };

    static final byte[] NULL = {0x05, 0x00};

    private static final int SEQUENCE = 0x30;
    private static final int INTEGER = 0x02;
    private static final int OCTET_STRING = 0x04;
    private static final int OID = 0x06;

    /** SEC 1's {@code [0] parameters}: the curve's OID. */
    private static final int CONTEXT_0 = 0xa0;

    private Der() {}

    /**
     * {@code PrivateKeyInfo ::= SEQUENCE { 0, SEQUENCE { algorithm, parameters }, OCTET STRING key
     * }}.
     */
    static byte[] pkcs8(byte[] algorithm, byte[] parameters, byte[] key) {
        return tlv(
                SEQUENCE,
                concat(
                        tlv(INTEGER, new byte[] {0}),
                        tlv(SEQUENCE, concat(algorithm, parameters)),
                        tlv(OCTET_STRING, key)));
    }

    /**
     * The curve OID (as a whole TLV) in a SEC 1 {@code ECPrivateKey ::= SEQUENCE { version,
     * privateKey, [0] parameters OPTIONAL, [1] publicKey OPTIONAL }}.
     */
    static byte[] sec1Curve(byte[] sec1) {
        int[] outer = header(sec1, 0);
        if (sec1[0] != SEQUENCE) {
            throw new IllegalArgumentException("not a DER SEQUENCE");
        }
        int at = outer[0];
        int end = at + outer[1];
        while (at < end) {
            int[] element = header(sec1, at);
            if ((sec1[at] & 0xff) == CONTEXT_0) {
                int[] oid = header(sec1, element[0]);
                if (sec1[element[0]] != OID) {
                    throw new IllegalArgumentException("the curve is not named by an OID");
                }
                byte[] curve = new byte[oid[0] - element[0] + oid[1]];
                System.arraycopy(sec1, element[0], curve, 0, curve.length);
                return curve;
            }
            at = element[0] + element[1];
        }
        throw new IllegalArgumentException("the EC key names no curve");
    }

    /** The content's offset and length of the element whose tag is at {@code at}. */
    private static int[] header(byte[] der, int at) {
        if (at + 2 > der.length) {
            throw new IllegalArgumentException("truncated DER");
        }
        int first = der[at + 1] & 0xff;
        int offset = at + 2;
        int length;
        if (first < 0x80) {
            length = first;
        } else {
            int bytes = first & 0x7f;
            if (bytes < 1 || bytes > 3 || offset + bytes > der.length) {
                throw new IllegalArgumentException("bad DER length");
            }
            length = 0;
            for (int i = 0; i < bytes; i++) {
                length = (length << 8) | (der[offset++] & 0xff);
            }
        }
        if (offset + length > der.length) {
            throw new IllegalArgumentException("truncated DER");
        }
        return new int[] {offset, length};
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
