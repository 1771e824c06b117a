package io.urunc.builder;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a layer as a reproducible tar+gzip blob into an OCI blob directory: entries sorted by path, parent
 * directories added, fixed owner/mtime, gzip header without a timestamp.
 */
final class LayerWriter {
    private final Path blobDir;
    private final long mtime;
    private final Progress progress;

    LayerWriter(Path blobDir, long mtime, Progress progress) {
        this.blobDir = blobDir;
        this.mtime = mtime;
        this.progress = progress;
    }

    Layer write(List<ImageFile> files, String createdBy) throws BuildException, IOException {
        TreeMap<String, ImageFile> entries = withParents(files);
        long total = entries.values().stream().mapToLong(f -> f instanceof ImageFile.ContextFile c ? c.size() : 0).sum();
        Files.createDirectories(blobDir);
        Path tmp = Files.createTempFile(blobDir, ".layer", ".tmp");
        try {
            Digests.HashingStream compressed;
            Digests.HashingStream tar;
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                compressed = new Digests.HashingStream(file);
                GZIPOutputStream gzip = new GZIPOutputStream(compressed, 1 << 16);
                tar = new Digests.HashingStream(gzip);
                Progress.Meter meter = progress.meter(createdBy, total);
                TarWriter writer = new TarWriter(tar, mtime);
                for (ImageFile f : entries.values()) {
                    switch (f) {
                        case ImageFile.Directory d -> writer.directory(d.tarName(), d.mode());
                        case ImageFile.Bytes b -> writer.file(b.tarName(), b.mode(), b.content());
                        case ImageFile.Symlink s -> writer.symlink(s.tarName(), s.target());
                        case ImageFile.ContextFile c -> {
                            try (InputStream in = meter.wrap(Files.newInputStream(c.source()))) {
                                writer.file(c.tarName(), c.mode(), c.size(), in);
                            }
                        }
                    }
                }
                writer.finish();
                gzip.finish();
                meter.done();
            }
            String digest = compressed.digest();
            Files.move(tmp, blobDir.resolve(Digests.hex(digest)), StandardCopyOption.REPLACE_EXISTING);
            List<String> regular = new ArrayList<>();
            for (ImageFile f : entries.values()) {
                if (f instanceof ImageFile.ContextFile || f instanceof ImageFile.Bytes) regular.add(f.path());
            }
            return new Layer(digest, compressed.count(), tar.digest(), tar.count(), createdBy, regular);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static TreeMap<String, ImageFile> withParents(List<ImageFile> files) throws BuildException {
        TreeMap<String, ImageFile> entries = new TreeMap<>();
        for (ImageFile f : files) {
            String p = f.path();
            for (int i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) {
                String parent = p.substring(0, i);
                ImageFile existing = entries.get(parent);
                if (existing == null) entries.put(parent, new ImageFile.Directory(parent, 0755));
                else if (!(existing instanceof ImageFile.Directory)) {
                    throw new BuildException(parent + " is copied as a file and also needed as a directory for " + p);
                }
            }
            ImageFile existing = entries.get(p);
            if (existing instanceof ImageFile.Directory && !(f instanceof ImageFile.Directory)) {
                throw new BuildException(p + " is copied as a file over a directory");
            }
            entries.put(p, f);
        }
        entries.remove("/");
        return entries;
    }
}
