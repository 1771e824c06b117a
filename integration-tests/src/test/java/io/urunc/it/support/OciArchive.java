package io.urunc.it.support;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a one-layer OCI image archive (an image layout in a tar, what {@code ctr images import} reads) for an
 * ordinary, non-unikernel image: a few files, an entrypoint and a command. No registry, no tools: the layer is an
 * uncompressed ustar, the JSON documents are written here.
 */
public final class OciArchive {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A file of the image: an absolute path inside it, its permission bits, its content. */
    public record ImageFile(String path, int mode, byte[] content) {
        public ImageFile {
            if (!path.startsWith("/") || path.length() > 99) throw new IllegalArgumentException("bad image path " + path);
        }
    }

    private OciArchive() {}

    /** Writes {@code archive}; the index names the image {@code reference} (fully qualified, e.g. urunc.test/pause:latest). */
    public static void write(Path archive, String reference, List<ImageFile> files, List<String> entrypoint,
                             List<String> cmd) throws IOException {
        write(archive, reference, files, entrypoint, cmd, Map.of());
    }

    /** As above, with {@code labels} in the image config (and nowhere else). */
    public static void write(Path archive, String reference, List<ImageFile> files, List<String> entrypoint,
                             List<String> cmd, Map<String, String> labels) throws IOException {
        byte[] layer = layerTar(files);
        String layerDigest = digest(layer);
        Map<String, Object> runtime = new LinkedHashMap<>();
        runtime.put("Env", List.of("PATH=/bin:/usr/bin:/sbin:/usr/sbin"));
        if (!entrypoint.isEmpty()) runtime.put("Entrypoint", entrypoint);
        if (!cmd.isEmpty()) runtime.put("Cmd", cmd);
        runtime.put("WorkingDir", "/");
        if (!labels.isEmpty()) runtime.put("Labels", labels);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.put("config", runtime);
        config.put("rootfs", Map.of("type", "layers", "diff_ids", List.of(layerDigest)));
        byte[] configJson = JSON.writeValueAsBytes(config);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.put("config", descriptor("application/vnd.oci.image.config.v1+json", configJson, Map.of()));
        manifest.put("layers", List.of(descriptor("application/vnd.oci.image.layer.v1.tar", layer, Map.of())));
        byte[] manifestJson = JSON.writeValueAsBytes(manifest);
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(descriptor("application/vnd.oci.image.manifest.v1+json", manifestJson,
                Map.of("io.containerd.image.name", reference, "org.opencontainers.image.ref.name", reference))));

        Files.createDirectories(archive.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(archive)) {
            Tar tar = new Tar(out);
            tar.file("oci-layout", 0644, "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            tar.file("index.json", 0644, JSON.writeValueAsBytes(index));
            tar.directory("blobs/");
            tar.directory("blobs/sha256/");
            for (byte[] blob : List.of(layer, configJson, manifestJson)) {
                tar.file("blobs/sha256/" + digest(blob).substring("sha256:".length()), 0644, blob);
            }
            tar.finish();
        }
    }

    private static byte[] layerTar(List<ImageFile> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Tar tar = new Tar(bytes);
        java.util.Set<String> dirs = new java.util.TreeSet<>();
        for (ImageFile f : files) {
            String p = f.path().substring(1);
            for (int i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) dirs.add(p.substring(0, i + 1));
        }
        for (String d : dirs) tar.directory(d);
        for (ImageFile f : files) tar.file(f.path().substring(1), f.mode(), f.content());
        tar.finish();
        return bytes.toByteArray();
    }

    private static Map<String, Object> descriptor(String mediaType, byte[] content, Map<String, String> annotations) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", mediaType);
        d.put("digest", digest(content));
        d.put("size", content.length);
        if (!annotations.isEmpty()) d.put("annotations", new java.util.TreeMap<>(annotations));
        return d;
    }

    static String digest(byte[] content) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The smallest ustar writer: regular files and directories, names under 100 bytes, owner root, mtime 0. */
    private static final class Tar {
        private final OutputStream out;

        Tar(OutputStream out) {
            this.out = out;
        }

        void directory(String name) throws IOException {
            header(name, 0755, 0, '5');
        }

        void file(String name, int mode, byte[] content) throws IOException {
            header(name, mode, content.length, '0');
            out.write(content);
            out.write(new byte[(512 - content.length % 512) % 512]);
        }

        void finish() throws IOException {
            out.write(new byte[1024]);
        }

        private void header(String name, int mode, long size, char type) throws IOException {
            byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            if (nameBytes.length > 99) throw new IOException("tar entry name too long: " + name);
            byte[] h = new byte[512];
            System.arraycopy(nameBytes, 0, h, 0, nameBytes.length);
            octal(h, 100, 8, mode);
            octal(h, 108, 8, 0);
            octal(h, 116, 8, 0);
            octal(h, 124, 12, size);
            octal(h, 136, 12, 0);
            h[156] = (byte) type;
            System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
            h[263] = '0';
            h[264] = '0';
            System.arraycopy("root".getBytes(StandardCharsets.US_ASCII), 0, h, 265, 4);
            System.arraycopy("root".getBytes(StandardCharsets.US_ASCII), 0, h, 297, 4);
            java.util.Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : h) sum += b & 0xff;
            byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(chk, 0, h, 148, 8);
            out.write(h);
        }

        private static void octal(byte[] h, int offset, int length, long value) {
            byte[] digits = String.format("%0" + (length - 1) + "o", value).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(digits, 0, h, offset, length - 1);
            h[offset + length - 1] = 0;
        }
    }
}
