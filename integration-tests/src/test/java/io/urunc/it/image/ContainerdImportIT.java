package io.urunc.it.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.builder.BuiltImage;
import io.urunc.builder.Main;
import io.urunc.builder.OutputFormat;
import io.urunc.image.ContainerdMetadataSource;
import io.urunc.image.MetadataResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** urunc-build's OCI tar goes into a real containerd 1.6 with ctr, name, labels and annotations intact. */
class ContainerdImportIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path tmp;
    private ImageFixtures.PrivateContainerd containerd;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(ImageFixtures.isRoot(), "needs root to run containerd");
        assumeTrue(ImageFixtures.hasCommand("containerd") && ImageFixtures.hasCommand("ctr"), "needs containerd and ctr");
        tmp = Files.createTempDirectory(Path.of("/tmp"), "uimg");
        containerd = new ImageFixtures.PrivateContainerd(Files.createDirectory(tmp.resolve("containerd")));
    }

    @AfterEach
    void stop() throws Exception {
        if (containerd != null) containerd.close();
        ImageFixtures.deleteTree(tmp);
    }

    @Test
    void ctrImportsTheOciTarWithItsNameLabelsAndAnnotations() throws Exception {
        BuiltImage image = ImageFixtures.build(tmp.resolve("ctx"), "example.com/urunc/it:1", OutputFormat.OCI_TAR, tmp.resolve("it.tar"));

        String imported = containerd.ctr("-n", "it", "images", "import", image.output().toString()).ok().stdout();
        assertTrue(imported.contains("example.com/urunc/it:1"), imported);
        String ls = containerd.ctr("-n", "it", "images", "ls").ok().stdout();
        assertTrue(ls.contains("example.com/urunc/it:1") && ls.contains(image.manifestDigest()) && ls.contains("linux/amd64"), ls);
        String check = containerd.ctr("-n", "it", "images", "check").ok().stdout();
        assertTrue(check.contains("complete (4/4)"), check); // config + 3 layers

        JsonNode manifest = JSON.readTree(containerd.ctr("-n", "it", "content", "get", image.manifestDigest()).ok().stdout());
        Map<String, String> decoded = new TreeMap<>();
        manifest.get("annotations").properties().forEach(e ->
                decoded.put(e.getKey(), new String(Base64.getDecoder().decode(e.getValue().asText()), StandardCharsets.UTF_8)));
        Map<String, String> urunc = new TreeMap<>(ImageFixtures.LABELS);
        urunc.remove("org.opencontainers.image.title");
        assertEquals(urunc, decoded);

        JsonNode config = JSON.readTree(containerd.ctr("-n", "it", "content", "get", image.configDigest()).ok().stdout());
        assertEquals(new TreeMap<>(ImageFixtures.LABELS), JSON.convertValue(config.get("config").get("Labels"), TreeMap.class));

        // the unpacked snapshot holds the files and /urunc.json
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        containerd.ctr("-n", "it", "images", "mount", "example.com/urunc/it:1", mnt.toString()).ok();
        try {
            assertEquals("hello from the image\n", Files.readString(mnt.resolve("data/sub/hello.txt")));
            assertTrue(Files.size(mnt.resolve("unikernel/app.elf")) == 4096);
            JsonNode uruncJson = JSON.readTree(mnt.resolve("urunc.json").toFile());
            assertEquals("cWVtdQ==", uruncJson.get("com.urunc.unikernel.hypervisor").asText());

            // the project's own resolver reads the image from each source: /urunc.json alone, and with the
            // manifest annotations and config labels containerd holds
            Map<String, String> annotations = JSON.convertValue(manifest.get("annotations"), Map.class);
            Map<String, String> labels = JSON.convertValue(config.get("config").get("Labels"), Map.class);
            var fromJson = new MetadataResolver(null).resolve(Map.of(), mnt, "it", "c1").orElseThrow();
            var fromManifest = new MetadataResolver(source(annotations, Map.of())).resolve(Map.of(), mnt, "it", "c1").orElseThrow();
            var fromLabels = new MetadataResolver(source(Map.of(), labels)).resolve(Map.of(), mnt, "it", "c1").orElseThrow();
            for (var md : java.util.List.of(fromJson, fromManifest, fromLabels)) {
                assertEquals("unikraft", md.unikernelType());
                assertEquals("qemu", md.hypervisor());
                assertEquals("/unikernel/app.elf", md.binary());
                assertEquals(java.util.Optional.of("app --port 80"), md.cmdline());
            }
        } finally {
            containerd.ctr("-n", "it", "images", "unmount", mnt.toString());
        }
    }

    private static ContainerdMetadataSource source(Map<String, String> annotations, Map<String, String> labels) {
        return new ContainerdMetadataSource() {
            @Override
            public Map<String, String> containerLabels(String namespace, String containerId) {
                return labels;
            }

            @Override
            public Map<String, String> imageManifestAnnotations(String namespace, String containerId) {
                return annotations;
            }
        };
    }

    @Test
    void cliImportOptionLoadsTheImageIntoTheNamespace() throws Exception {
        Path cf = ImageFixtures.context(tmp.resolve("ctx"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"build", "-t", "urunc-it-cli:2", "-f", cf.toString(),
                "--import", containerd.socket.toString(), "--namespace", "cli", tmp.resolve("ctx").toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String digest = out.toString(StandardCharsets.UTF_8).strip();
        String ls = containerd.ctr("-n", "cli", "images", "ls").ok().stdout();
        assertTrue(ls.contains("docker.io/library/urunc-it-cli:2") && ls.contains(digest), ls);
        try (var files = Files.list(Path.of("/tmp"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("urunc-build-")
                    && p.toFile().lastModified() > System.currentTimeMillis() - 60_000), "temporary OCI tar left in /tmp");
        }
    }
}
