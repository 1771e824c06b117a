package io.urunc.builder;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/** Moves a finished OCI layout to the requested output: as a directory, an OCI tar or a docker archive. */
final class ImageWriter {
    private ImageWriter() {}

    static void write(BuildRequest req, Path layout, String configDigest, List<Layer> layers) throws IOException, BuildException {
        Path out = req.output();
        Path tmp = out.resolveSibling("." + out.getFileName() + ".tmp");
        FileTrees.delete(tmp);
        switch (req.format()) {
            case OCI_DIR -> {
                if (Files.exists(out) && !isReplaceable(out)) {
                    throw new BuildException(out + " exists and is not an OCI layout: refusing to replace it");
                }
                Files.move(layout, tmp);
                FileTrees.delete(out);
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
                return;
            }
            case OCI_TAR -> {
                try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
                     TarWriter tar = new TarWriter(os, req.epochSeconds())) {
                    tar.file("oci-layout", 0644, Files.readAllBytes(layout.resolve("oci-layout")));
                    tar.file("index.json", 0644, Files.readAllBytes(layout.resolve("index.json")));
                    tar.directory("blobs/", 0755);
                    tar.directory("blobs/sha256/", 0755);
                    for (Path blob : sortedBlobs(layout)) {
                        try (InputStream in = Files.newInputStream(blob)) {
                            tar.file("blobs/sha256/" + blob.getFileName(), 0644, Files.size(blob), in);
                        }
                    }
                }
            }
            case DOCKER_ARCHIVE -> writeDockerArchive(req, layout, configDigest, layers, tmp);
        }
        if (Files.isDirectory(out)) throw new BuildException(out + " is a directory: give a file name for " + req.format().cliName());
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static boolean isReplaceable(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        if (Files.exists(dir.resolve("oci-layout"))) return true;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static List<Path> sortedBlobs(Path layout) throws IOException {
        try (Stream<Path> s = Files.list(layout.resolve("blobs").resolve("sha256"))) {
            return s.sorted().toList();
        }
    }

    /** docker save layout: uncompressed layer tars under <diffid>/layer.tar, as docker load expects. */
    private static void writeDockerArchive(BuildRequest req, Path layout, String configDigest, List<Layer> layers, Path tmp)
            throws IOException {
        Path blobs = layout.resolve("blobs").resolve("sha256");
        String configName = Digests.hex(configDigest) + ".json";
        List<String> layerNames = new ArrayList<>();
        for (Layer l : layers) layerNames.add(Digests.hex(l.diffId()) + "/layer.tar");
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("Config", configName);
        entry.put("RepoTags", List.of(req.reference().given()));
        entry.put("Layers", layerNames);
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
             TarWriter tar = new TarWriter(os, req.epochSeconds())) {
            tar.file(configName, 0644, Files.readAllBytes(blobs.resolve(Digests.hex(configDigest))));
            java.util.Set<String> written = new java.util.HashSet<>();
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                if (!written.add(l.diffId())) continue; // the same content twice is stored once
                tar.directory(Digests.hex(l.diffId()) + "/", 0755);
                try (InputStream in = new GZIPInputStream(Files.newInputStream(blobs.resolve(Digests.hex(l.digest()))), 1 << 16)) {
                    tar.file(layerNames.get(i), 0644, l.uncompressedSize(), in);
                }
            }
            tar.file("manifest.json", 0644, Json.bytes(List.of(entry)));
        }
    }
}
