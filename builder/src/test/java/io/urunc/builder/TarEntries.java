package io.urunc.builder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/** Test helper: the regular files of a (gzipped) tar, name -> content, for ustar names without PAX. */
final class TarEntries {
    private TarEntries() {}

    static Map<String, byte[]> read(byte[] tar) throws IOException {
        return read(new ByteArrayInputStream(tar));
    }

    static Map<String, byte[]> readGzip(byte[] tgz) throws IOException {
        return read(new GZIPInputStream(new ByteArrayInputStream(tgz)));
    }

    /** Entry name -> type flag, in archive order. */
    static Map<String, Character> types(byte[] tar) throws IOException {
        Map<String, Character> out = new LinkedHashMap<>();
        InputStream in = new ByteArrayInputStream(tar);
        while (true) {
            byte[] h = in.readNBytes(512);
            if (h.length < 512 || h[0] == 0) return out;
            long size = Long.parseLong(field(h, 124, 12).trim(), 8);
            out.put(name(h), (char) h[156]);
            in.skipNBytes((size + 511) / 512 * 512);
        }
    }

    private static Map<String, byte[]> read(InputStream in) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        while (true) {
            byte[] h = in.readNBytes(512);
            if (h.length < 512 || h[0] == 0) return out;
            long size = Long.parseLong(field(h, 124, 12).trim(), 8);
            byte[] content = in.readNBytes((int) size);
            in.skipNBytes((512 - size % 512) % 512);
            if (h[156] == '0') out.put(name(h), content);
        }
    }

    private static String name(byte[] h) {
        String prefix = field(h, 345, 155);
        String name = field(h, 0, 100);
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String field(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) end++;
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }
}
