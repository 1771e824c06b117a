package io.urunc.builder;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** sha256 helpers; digests are written "sha256:<hex>". */
final class Digests {
    private Digests() {}

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    static String of(byte[] data) {
        return "sha256:" + HexFormat.of().formatHex(sha256().digest(data));
    }

    static String hex(String digest) {
        return digest.substring("sha256:".length());
    }

    /** Passes bytes through while hashing and counting them. */
    static final class HashingStream extends FilterOutputStream {
        private final MessageDigest md = sha256();
        private long count;

        HashingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            md.update((byte) b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            md.update(b, off, len);
            count += len;
        }

        String digest() {
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        }

        long count() {
            return count;
        }
    }
}
