package io.urunc.builder;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a POSIX tar stream (ustar headers, PAX extended headers for names, link targets or sizes that do not
 * fit). Every entry gets uid/gid 0, empty owner names and the same mtime, so equal input gives equal bytes.
 * Entry names are written as given: no leading '/', directories end with '/'.
 */
public final class TarWriter implements AutoCloseable {
    static final int BLOCK = 512;
    private static final long MAX_USTAR_SIZE = 077777777777L;

    private final OutputStream out;
    private final long mtime;
    private boolean finished;

    public TarWriter(OutputStream out, long mtimeSeconds) {
        this.out = out;
        this.mtime = mtimeSeconds;
    }

    public void directory(String name, int mode) throws IOException {
        String n = name.endsWith("/") ? name : name + "/";
        header(n, mode, 0, '5', "");
    }

    public void file(String name, int mode, byte[] content) throws IOException {
        header(name, mode, content.length, '0', "");
        out.write(content);
        pad(content.length);
    }

    /** Copies exactly {@code size} bytes from {@code content}; a shorter stream is an error (the file changed). */
    public void file(String name, int mode, long size, InputStream content) throws IOException {
        header(name, mode, size, '0', "");
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = content.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) throw new IOException(name + ": file is shorter than " + size + " bytes (changed during the build?)");
            out.write(buf, 0, n);
            left -= n;
        }
        pad(size);
    }

    public void symlink(String name, String target) throws IOException {
        header(name, 0777, 0, '2', target);
    }

    /** Writes the two zero blocks that end the archive; does not close the underlying stream. */
    public void finish() throws IOException {
        if (finished) return;
        out.write(new byte[2 * BLOCK]);
        out.flush();
        finished = true;
    }

    @Override
    public void close() throws IOException {
        finish();
    }

    private void header(String name, int mode, long size, char type, String linkTarget) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = linkTarget.getBytes(StandardCharsets.UTF_8);
        Map<String, String> pax = new LinkedHashMap<>();
        String[] split = splitName(nameBytes, name);
        if (split == null) pax.put("path", name);
        if (linkBytes.length > 100) pax.put("linkpath", linkTarget);
        if (size > MAX_USTAR_SIZE) pax.put("size", Long.toString(size));
        if (!pax.isEmpty()) {
            byte[] records = paxRecords(pax);
            String paxName = shorten("PaxHeaders/" + (name.endsWith("/") ? name.substring(0, name.length() - 1) : name));
            writeHeader(paxName, "", 0644, records.length, 'x', "");
            out.write(records);
            pad(records.length);
        }
        String prefix = split == null ? "" : split[0];
        String shortName = split == null ? shorten(name) : split[1];
        writeHeader(shortName, prefix, mode, size > MAX_USTAR_SIZE ? 0 : size, type, linkBytes.length > 100 ? "" : linkTarget);
    }

    /** {prefix, name} fitting ustar's 155 + 100 bytes, or null when only PAX can hold it. */
    private static String[] splitName(byte[] bytes, String name) {
        if (bytes.length <= 100) return new String[] {"", name};
        if (bytes.length > 256 || name.chars().anyMatch(c -> c > 127)) return null;
        for (int i = name.length() - 1; i > 0; i--) { // split at a '/' with prefix <= 155, rest <= 100
            if (name.charAt(i) != '/' || i == name.length() - 1) continue;
            if (i <= 155 && name.length() - i - 1 <= 100) return new String[] {name.substring(0, i), name.substring(i + 1)};
        }
        return null;
    }

    private static String shorten(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= 100) return s;
        return new String(Arrays.copyOfRange(b, b.length - 100, b.length), StandardCharsets.US_ASCII)
                .replaceAll("[^\\x20-\\x7e]", "_");
    }

    static byte[] paxRecords(Map<String, String> entries) {
        StringBuilder all = new StringBuilder();
        for (var e : entries.entrySet()) {
            String body = " " + e.getKey() + "=" + e.getValue() + "\n";
            int bodyLen = body.getBytes(StandardCharsets.UTF_8).length;
            int len = bodyLen + 1;
            while (len != bodyLen + Integer.toString(len).length()) len = bodyLen + Integer.toString(len).length();
            all.append(len).append(body);
        }
        return all.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void writeHeader(String name, String prefix, int mode, long size, char type, String link) throws IOException {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = (byte) type;
        put(h, 157, 100, link.getBytes(StandardCharsets.UTF_8));
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        octal(h, 329, 8, 0);
        octal(h, 337, 8, 0);
        put(h, 345, 155, prefix.getBytes(StandardCharsets.UTF_8));
        int sum = 0;
        for (byte b : h) sum += b & 0xff;
        byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, h, 148, 8);
        out.write(h);
    }

    private static void put(byte[] h, int off, int len, byte[] value) {
        if (value.length > len) throw new IllegalArgumentException("tar header field too long: " + new String(value, StandardCharsets.UTF_8));
        System.arraycopy(value, 0, h, off, value.length);
    }

    private static void octal(byte[] h, int off, int len, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > len - 1) throw new IllegalArgumentException("value " + value + " does not fit a tar header field");
        byte[] digits = ("0".repeat(len - 1 - s.length()) + s).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, h, off, len - 1);
        h[off + len - 1] = 0;
    }

    private void pad(long size) throws IOException {
        int rem = (int) (size % BLOCK);
        if (rem != 0) out.write(new byte[BLOCK - rem]);
    }
}
