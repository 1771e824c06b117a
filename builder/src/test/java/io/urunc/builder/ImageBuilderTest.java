package io.urunc.builder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageBuilderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTAINERFILE = """
            FROM scratch
            COPY app.elf /unikernel/app.elf
            COPY conf/ /etc/app/
            LABEL com.urunc.unikernel.unikernelType=unikraft \\
                  com.urunc.unikernel.hypervisor=qemu \\
                  com.urunc.unikernel.binary=/unikernel/app.elf \\
                  com.urunc.unikernel.cmdline="app -c '/etc/app/app.conf'"
            LABEL org.opencontainers.image.title=demo
            """;

    @TempDir
    Path tmp;
    Path context;

    @BeforeEach
    void context() throws Exception {
        context = Files.createDirectory(tmp.resolve("ctx"));
        byte[] elf = new byte[64];
        elf[0] = 0x7f; elf[1] = 'E'; elf[2] = 'L'; elf[3] = 'F'; elf[18] = 0x3e;
        Files.write(context.resolve("app.elf"), elf);
        Files.createDirectories(context.resolve("conf"));
        Files.writeString(context.resolve("conf/app.conf"), "port=80\n");
    }

    private BuiltImage build(String containerfile, OutputFormat format, String out) throws Exception {
        Path cf = context.resolve("Containerfile");
        Files.writeString(cf, containerfile);
        BuildRequest req = new BuildRequest(ImageReference.parse("example.com/demo:1"), cf, context, Map.of(), format,
                tmp.resolve(out), 0, true);
        return new ImageBuilder(new PrintStream(new ByteArrayOutputStream()), true).build(req);
    }

    private BuiltImage build(String containerfile) throws Exception {
        return build(containerfile, OutputFormat.OCI_DIR, "layout");
    }

    private static byte[] blob(Path layout, String digest) throws Exception {
        return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring(7)));
    }

    @Test
    void labelsGoToConfigPlainAndToAnnotationsAndUruncJsonBase64() throws Exception {
        BuiltImage image = build(CONTAINERFILE);
        Path layout = image.output();
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        JsonNode desc = index.get("manifests").get(0);
        assertEquals(image.manifestDigest(), desc.get("digest").asText());
        assertEquals("example.com/demo:1", desc.get("annotations").get("io.containerd.image.name").asText());
        assertEquals("example.com/demo:1", desc.get("annotations").get("org.opencontainers.image.ref.name").asText());

        JsonNode manifest = JSON.readTree(blob(layout, image.manifestDigest()));
        Map<String, String> annotations = JSON.convertValue(manifest.get("annotations"), Map.class);
        assertEquals(Map.of(
                "com.urunc.unikernel.unikernelType", "dW5pa3JhZnQ=",
                "com.urunc.unikernel.hypervisor", "cWVtdQ==",
                "com.urunc.unikernel.binary", "L3VuaWtlcm5lbC9hcHAuZWxm",
                "com.urunc.unikernel.cmdline", "YXBwIC1jICcvZXRjL2FwcC9hcHAuY29uZic="), annotations);

        JsonNode config = JSON.readTree(blob(layout, image.configDigest()));
        assertEquals("amd64", config.get("architecture").asText());
        assertEquals("linux", config.get("os").asText());
        assertEquals("1970-01-01T00:00:00Z", config.get("created").asText());
        assertEquals(new TreeMap<>(Map.of(
                "com.urunc.unikernel.unikernelType", "unikraft",
                "com.urunc.unikernel.hypervisor", "qemu",
                "com.urunc.unikernel.binary", "/unikernel/app.elf",
                "com.urunc.unikernel.cmdline", "app -c '/etc/app/app.conf'",
                "org.opencontainers.image.title", "demo")), JSON.convertValue(config.get("config").get("Labels"), TreeMap.class));
        assertEquals(List.of("app", "-c", "/etc/app/app.conf"), JSON.convertValue(config.get("config").get("Cmd"), List.class));

        // one layer per COPY, then /urunc.json alone
        JsonNode layers = manifest.get("layers");
        assertEquals(3, layers.size());
        assertEquals(Set.of("unikernel/app.elf"), TarEntries.readGzip(blob(layout, layers.get(0).get("digest").asText())).keySet());
        assertEquals(Set.of("etc/app/app.conf"), TarEntries.readGzip(blob(layout, layers.get(1).get("digest").asText())).keySet());
        Map<String, byte[]> last = TarEntries.readGzip(blob(layout, layers.get(2).get("digest").asText()));
        assertEquals(Set.of("urunc.json"), last.keySet());
        assertEquals(JSON.readTree("""
                {"com.urunc.unikernel.binary":"L3VuaWtlcm5lbC9hcHAuZWxm",
                 "com.urunc.unikernel.cmdline":"YXBwIC1jICcvZXRjL2FwcC9hcHAuY29uZic=",
                 "com.urunc.unikernel.hypervisor":"cWVtdQ==",
                 "com.urunc.unikernel.unikernelType":"dW5pa3JhZnQ="}"""), JSON.readTree(last.get("urunc.json")));

        // diff_ids are the sha256 of the uncompressed layers
        for (int i = 0; i < 3; i++) {
            byte[] tar = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(
                    blob(layout, layers.get(i).get("digest").asText()))).readAllBytes();
            assertEquals(Digests.of(tar), config.get("rootfs").get("diff_ids").get(i).asText());
        }
    }

    @Test
    void sameInputsGiveTheSameBytesAndDigest() throws Exception {
        BuiltImage a = build(CONTAINERFILE, OutputFormat.OCI_TAR, "a.tar");
        Files.setLastModifiedTime(context.resolve("app.elf"), java.nio.file.attribute.FileTime.fromMillis(123456789L));
        BuiltImage b = build(CONTAINERFILE, OutputFormat.OCI_TAR, "b.tar");
        assertEquals(a.manifestDigest(), b.manifestDigest());
        assertArrayEquals(Files.readAllBytes(a.output()), Files.readAllBytes(b.output()));
        BuiltImage c = build(CONTAINERFILE.replace("title=demo", "title=other"), OutputFormat.OCI_TAR, "c.tar");
        assertNotEquals(a.manifestDigest(), c.manifestDigest());
    }

    @Test
    void dockerArchiveHasManifestJsonAndUncompressedLayers() throws Exception {
        BuiltImage image = build(CONTAINERFILE, OutputFormat.DOCKER_ARCHIVE, "d.tar");
        Map<String, byte[]> files = TarEntries.read(Files.readAllBytes(image.output()));
        JsonNode manifest = JSON.readTree(files.get("manifest.json")).get(0);
        assertEquals("example.com/demo:1", manifest.get("RepoTags").get(0).asText());
        JsonNode config = JSON.readTree(files.get(manifest.get("Config").asText()));
        assertEquals(Digests.of(files.get(manifest.get("Config").asText())), image.configDigest());
        for (int i = 0; i < 3; i++) {
            byte[] layer = files.get(manifest.get("Layers").get(i).asText());
            assertEquals(config.get("rootfs").get("diff_ids").get(i).asText(), Digests.of(layer));
        }
    }

    @Test
    void validationErrorsPointAtTheLabel() throws Exception {
        String bad = CONTAINERFILE.replace("=unikraft", "=unikrafty").replace("=qemu", "=kvm");
        String msg = assertThrows(BuildException.class, () -> build(bad)).getMessage();
        assertTrue(msg.contains("Containerfile:4: unknown unikernelType 'unikrafty'"), msg);
        assertTrue(msg.contains("Containerfile:4: unknown hypervisor 'kvm'"), msg);

        msg = assertThrows(BuildException.class, () -> build(CONTAINERFILE.replace("=unikraft", "=rumprun"))).getMessage();
        assertTrue(msg.contains("urunc runs rumprun unikernels on hvt or spt, not on qemu"), msg);

        msg = assertThrows(BuildException.class, () -> build(CONTAINERFILE.replace("binary=/unikernel/app.elf", "binary=/app.elf"))).getMessage();
        assertTrue(msg.contains("Containerfile:4: com.urunc.unikernel.binary=/app.elf: no such file in the image"), msg);

        msg = assertThrows(BuildException.class, () -> build(CONTAINERFILE.replace("com.urunc.unikernel.hypervisor=qemu", "x=y"))).getMessage();
        assertTrue(msg.contains("missing required label com.urunc.unikernel.hypervisor"), msg);

        msg = assertThrows(BuildException.class, () -> build(CONTAINERFILE + "LABEL com.urunc.unikernel.initrd=/initrd\n")).getMessage();
        assertTrue(msg.contains("Containerfile:9: com.urunc.unikernel.initrd=/initrd: no such file"), msg);
    }

    @Test
    void copyNeverLeavesTheContext() throws Exception {
        Files.writeString(tmp.resolve("secret"), "x");
        String msg = assertThrows(ContainerfileException.class, () -> build(CONTAINERFILE + "COPY ../secret /s\n")).getMessage();
        assertTrue(msg.contains("/Containerfile:9: COPY: ../secret is outside the build context"), msg);
        Files.createSymbolicLink(context.resolve("link"), tmp.resolve("secret"));
        msg = assertThrows(ContainerfileException.class, () -> build(CONTAINERFILE + "COPY link /s\n")).getMessage();
        assertTrue(msg.contains("symbolic link pointing outside the build context"), msg);
        msg = assertThrows(ContainerfileException.class, () -> build(CONTAINERFILE + "COPY missing /s\n")).getMessage();
        assertTrue(msg.contains("missing not found in the build context"), msg);
    }

    @Test
    void architectureComesFromTheKernelHeader() throws Exception {
        byte[] arm = new byte[64];
        arm[0] = 0x7f; arm[1] = 'E'; arm[2] = 'L'; arm[3] = 'F'; arm[18] = (byte) 0xb7;
        Files.write(context.resolve("app.elf"), arm);
        BuiltImage image = build(CONTAINERFILE);
        JsonNode config = JSON.readTree(blob(image.output(), image.configDigest()));
        assertEquals("arm64", config.get("architecture").asText());
    }

    @Test
    void cmdlineSplitsOnWhitespaceKeepingQuotedWords() {
        assertEquals(List.of("/init", "/bin/sh", "-c", "exit 3"), ImageConfig.splitCmdline("/init /bin/sh -c \"exit 3\""));
        assertEquals(List.of("a", ""), ImageConfig.splitCmdline("a ''"));
        assertEquals(List.of(), ImageConfig.splitCmdline("   "));
    }

    @Test
    void imageNamesAreQualifiedLikeContainerd() throws Exception {
        assertEquals("docker.io/library/hello:latest", ImageReference.parse("hello").fullName());
        assertEquals("docker.io/me/app:2", ImageReference.parse("me/app:2").fullName());
        assertEquals("localhost:5000/app:latest", ImageReference.parse("localhost:5000/app").fullName());
        assertTrue(assertThrows(BuildException.class, () -> ImageReference.parse("Bad/Name")).getMessage().contains("'Bad'"));
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
