package io.urunc.builder;

import io.urunc.image.Annotations;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a urunc image: parses the Containerfile, checks the unikernel labels against the copied files, writes one
 * layer per COPY plus a layer holding only /urunc.json, then the config, manifest and index, and packs the result.
 */
public final class ImageBuilder {
    private final Progress progress;

    public ImageBuilder(PrintStream err, boolean quiet) {
        this.progress = new Progress(err, quiet);
    }

    public BuiltImage build(BuildRequest req) throws BuildException {
        Containerfile cf = ContainerfileParser.parse(req.containerfile(), req.buildArgs());
        CopyResolver resolver = new CopyResolver(req.context(), cf.fileName());
        List<Instruction.Copy> copies = cf.copies();
        List<List<ImageFile>> perCopy = new ArrayList<>();
        Set<String> regularFiles = new HashSet<>();
        for (Instruction.Copy c : copies) {
            List<ImageFile> files = resolver.resolve(c);
            perCopy.add(files);
            for (ImageFile f : files) if (f instanceof ImageFile.ContextFile) regularFiles.add(f.path());
        }
        UnikernelLabels.validate(cf, regularFiles);
        if (regularFiles.contains("/" + Annotations.URUNC_JSON)) {
            throw new BuildException(cf.fileName() + ": COPY to /" + Annotations.URUNC_JSON
                    + " is not allowed: urunc-build writes that file from the LABELs");
        }
        Map<String, String> labels = cf.labels();
        if (!labels.containsKey(Annotations.CMDLINE)) {
            progress.say("warning: no " + Annotations.CMDLINE + " label: the image has no Cmd (docker needs one to run it)");
        }
        String arch = architecture(cf, perCopy, labels);

        Path work = null;
        try {
            work = Files.createTempDirectory(outputParent(req.output()), ".urunc-build-");
            Path blobs = work.resolve("blobs").resolve("sha256");
            Files.createDirectories(blobs);
            LayerWriter writer = new LayerWriter(blobs, req.epochSeconds(), progress);
            List<Layer> layers = new ArrayList<>();
            for (int i = 0; i < copies.size(); i++) {
                Instruction.Copy c = copies.get(i);
                String createdBy = "COPY " + String.join(" ", c.sources()) + " " + c.destination();
                progress.say("[" + (i + 1) + "/" + (copies.size() + 1) + "] " + createdBy);
                layers.add(writer.write(perCopy.get(i), createdBy));
            }
            progress.say("[" + (copies.size() + 1) + "/" + (copies.size() + 1) + "] /" + Annotations.URUNC_JSON);
            layers.add(writer.write(List.of(new ImageFile.Bytes("/" + Annotations.URUNC_JSON, 0644,
                    ImageConfig.uruncJson(labels))), "urunc-build: /" + Annotations.URUNC_JSON + " from the LABELs"));

            byte[] config = ImageConfig.config(arch, labels, layers, req.epochSeconds());
            String configDigest = writeBlob(blobs, config);
            Map<String, String> annotations = ImageConfig.encodedUruncLabels(labels);
            byte[] manifest = ImageConfig.manifest(configDigest, config.length, layers, annotations);
            String manifestDigest = writeBlob(blobs, manifest);
            Files.write(work.resolve("index.json"), ImageConfig.index(manifestDigest, manifest.length, req.reference()));
            Files.writeString(work.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", StandardCharsets.UTF_8);

            ImageWriter.write(req, work, configDigest, layers);
            progress.say("built " + req.reference().fullName() + " " + manifestDigest + " -> " + req.output()
                    + " (" + req.format().cliName() + ")");
            return new BuiltImage(req.output(), req.format(), req.reference(), manifestDigest, configDigest, layers,
                    labels, annotations);
        } catch (IOException e) {
            throw new BuildException("writing the image failed: " + e.getMessage(), e);
        } finally {
            if (work != null) FileTrees.deleteQuietly(work);
        }
    }

    private static Path outputParent(Path output) throws IOException {
        Path parent = output.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        return parent;
    }

    private String architecture(Containerfile cf, List<List<ImageFile>> perCopy, Map<String, String> labels) throws BuildException {
        String binary = CopyResolver.normalizeImagePath(labels.get(Annotations.BINARY));
        Path source = null;
        for (List<ImageFile> files : perCopy) {
            for (ImageFile f : files) if (f instanceof ImageFile.ContextFile c && c.path().equals(binary)) source = c.source();
        }
        try {
            if (source != null) {
                var arch = Architecture.of(source);
                if (arch.isPresent()) return arch.get();
            }
        } catch (IOException e) {
            throw new BuildException("cannot read " + source + ": " + e.getMessage(), e);
        }
        progress.say("warning: " + cf.fileName() + ": cannot tell the architecture of " + binary + " (not ELF or PE), using amd64");
        return "amd64";
    }

    static String writeBlob(Path blobs, byte[] content) throws IOException {
        String digest = Digests.of(content);
        Files.write(blobs.resolve(Digests.hex(digest)), content);
        return digest;
    }
}
