package io.urunc.image;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Against a private, real containerd (root only): an imported OCI image with labels and manifest annotations. */
class ContainerdGrpcMetadataSourceTest {
    static final String NS = "uruncimgtest";
    static final String IMAGE = "example.com/urunc/hello:latest";
    static final String BIG_IMAGE = "example.com/urunc/big-manifest:latest";
    static final int FOREIGN = 60_000;
    static Path dir;
    static Process containerd;

    @BeforeAll
    static void startContainerd() throws Exception {
        assumeTrue(io.urunc.sys.Libc.geteuid() == 0 && Files.isExecutable(Path.of("/usr/bin/containerd")), "needs root and containerd");
        dir = Files.createTempDirectory(Path.of("/tmp"), "ctd");
        Files.writeString(dir.resolve("config.toml"), "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
        containerd = new ProcessBuilder("containerd", "--root", dir.resolve("root").toString(), "--state",
                dir.resolve("state").toString(), "--address", sock().toString(), "--config", dir.resolve("config.toml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).start();
        for (int i = 0; i < 100 && !Files.exists(sock()); i++) Thread.sleep(50);
        Path tar = buildOciImage(dir.resolve("oci"), "");
        ctr("images", "import", "--index-name", IMAGE, tar.toString());
        ctr("containers", "create", IMAGE, "c1");
        Path big = buildOciImage(Files.createDirectories(dir.resolve("big")).resolve("oci"), foreignAnnotations(FOREIGN));
        ctr("images", "import", "--index-name", BIG_IMAGE, big.toString());
        ctr("containers", "create", BIG_IMAGE, "c2");
    }

    @AfterAll
    static void stopContainerd() throws Exception {
        if (containerd != null) {
            try {
                ctr("containers", "delete", "c1");
                ctr("containers", "delete", "c2");
            } catch (Exception ignored) {
                // best effort: the whole root goes away below
            }
            containerd.destroy();
            if (!containerd.waitFor(5, TimeUnit.SECONDS)) containerd.destroyForcibly().waitFor();
        }
        if (dir != null) {
            // containerd may leave mounts under its root (snapshots are mounted only while used; be safe)
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static Path sock() {
        return dir.resolve("c.sock");
    }

    static void ctr(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "--address", sock().toString(), "-n", NS));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(cmd + " failed: " + out);
    }

    @Test
    void readsContainerLabelsAndManifestAnnotations() throws Exception {
        try (var src = new ContainerdGrpcMetadataSource(sock())) {
            Map<String, String> labels = src.containerLabels(NS, "c1");
            assertEquals(MetadataResolverTest.b64("hvt"), labels.get(Annotations.HYPERVISOR), labels.toString());
            Map<String, String> ann = src.imageManifestAnnotations(NS, "c1");
            assertEquals(MetadataResolverTest.b64("rumprun"), ann.get(Annotations.UNIKERNEL_TYPE), ann.toString());
            assertEquals("/unikernel/hello.hvt", ann.get(Annotations.BINARY));

            assertEquals(Map.of(), src.containerLabels(NS, "no-such-container"));
            assertEquals(Map.of(), src.imageManifestAnnotations(NS, "no-such-container"));
        }
    }

    static String foreignAnnotations(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append(",\"org.example.padding.").append(i).append("\":\"xxxxxxxxxxxxxxxx\"");
        return b.toString();
    }

    @Test
    void aManifestOfMegabytesOfForeignAnnotationsCostsItsBytesNotATreeOfThem() throws Exception {
        long manifestBytes = foreignAnnotations(FOREIGN).length();
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (var src = new ContainerdGrpcMetadataSource(sock())) {
            src.imageManifestAnnotations(NS, "c1"); // warm up the client
            long before = threads.getCurrentThreadAllocatedBytes();
            Map<String, String> ann = src.imageManifestAnnotations(NS, "c2");
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(java.util.Set.of(Annotations.UNIKERNEL_TYPE, Annotations.BINARY), ann.keySet(),
                    "only the com.urunc. keys are kept");
            assertTrue(allocated < 3 * manifestBytes, "reading a " + manifestBytes + "-byte manifest allocated "
                    + allocated + " bytes on the caller's thread");
        }
    }

    /** What docker's containerd image store leaves: the container names its image, its own labels say nothing. */
    @Test
    void readsTheImageConfigLabelsOfTheContainersImage() throws Exception {
        try (var src = new ContainerdGrpcMetadataSource(sock())) {
            assertEquals(Map.of(Annotations.HYPERVISOR, MetadataResolverTest.b64("hvt")), src.imageConfigLabels(NS, "c1"),
                    "only the com.urunc. labels of the config");
            assertEquals(Map.of(), src.imageConfigLabels(NS, "no-such-container"));
        }
    }

    /** What a Create asks for: the three maps read in one pass are those the three separate reads give. */
    @Test
    void everythingInOnePassIsWhatTheSeparateReadsGive() throws Exception {
        try (var src = new ContainerdGrpcMetadataSource(sock())) {
            for (String c : List.of("c1", "c2", "no-such-container")) {
                var all = src.everything(NS, c);
                assertEquals(src.containerLabels(NS, c), all.containerLabels(), c);
                assertEquals(src.imageManifestAnnotations(NS, c), all.manifestAnnotations(), c);
                assertEquals(src.imageConfigLabels(NS, c), all.configLabels(), c);
            }
            assertEquals(MetadataResolverTest.b64("rumprun"), src.everything(NS, "c1").manifestAnnotations()
                    .get(Annotations.UNIKERNEL_TYPE));
        }
    }

    @Test
    void resolverCombinesContainerdAndSpec() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/unikernel"));
        Files.writeString(rootfs.resolve("hello.hvt"), "kernel");
        try (var src = new ContainerdGrpcMetadataSource(sock())) {
            UnikernelMetadata md = new MetadataResolver(src)
                    .resolve(Map.of(), dir.resolve("rootfs"), NS, "c1").orElseThrow();
            assertEquals("rumprun", md.unikernelType());
            assertEquals("hvt", md.hypervisor());
            assertEquals("container label", md.sources().get(Annotations.HYPERVISOR));
            assertEquals("image manifest annotation", md.sources().get(Annotations.BINARY));
        }
    }

    @Test
    void unreachableContainerdFailsWithinTheDeadline() {
        long t0 = System.nanoTime();
        try (var src = new ContainerdGrpcMetadataSource(dir.resolve("nothing.sock"), Duration.ofMillis(500))) {
            var e = assertThrows(IOException.class, () -> src.containerLabels(NS, "c1"));
            assertTrue(e.getMessage().contains("UNAVAILABLE") || e.getMessage().contains("DEADLINE_EXCEEDED"), e.getMessage());
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(4));
    }

    /** An OCI layout tar: one tiny layer, config with labels, manifest with annotations, index with a platform. */
    static Path buildOciImage(Path oci, String extraAnnotations) throws Exception {
        Path blobs = Files.createDirectories(oci.resolve("blobs/sha256"));
        Path layerDir = Files.createDirectories(oci.getParent().resolve("layer/unikernel"));
        Files.writeString(layerDir.resolve("hello.hvt"), "not really a kernel");
        Path layerTar = oci.getParent().resolve("layer.tar");
        run("tar", "-C", layerDir.getParent().toString(), "-cf", layerTar.toString(), "unikernel");
        byte[] layer = Files.readAllBytes(layerTar);
        String layerDigest = put(blobs, layer);
        String config = """
                {"architecture":"amd64","os":"linux","config":{"Cmd":["/unikernel/hello.hvt"],
                 "Labels":{"com.urunc.unikernel.hypervisor":"%s","org.opencontainers.image.title":"hello"}},
                 "rootfs":{"type":"layers","diff_ids":["%s"]}}""".formatted(MetadataResolverTest.b64("hvt"), layerDigest);
        String configDigest = put(blobs, config.getBytes(StandardCharsets.UTF_8));
        String manifest = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},
                 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}],
                 "annotations":{"com.urunc.unikernel.unikernelType":"%s","com.urunc.unikernel.binary":"/unikernel/hello.hvt"%s}}"""
                .formatted(configDigest, config.getBytes(StandardCharsets.UTF_8).length, layerDigest, layer.length,
                        MetadataResolverTest.b64("rumprun"), extraAnnotations);
        byte[] mb = manifest.getBytes(StandardCharsets.UTF_8);
        String manifestDigest = put(blobs, mb);
        Files.writeString(oci.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(oci.resolve("index.json"), """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
                 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,
                  "platform":{"architecture":"amd64","os":"linux"}}]}""".formatted(manifestDigest, mb.length));
        Path tar = oci.getParent().resolve("image.tar");
        run("tar", "-C", oci.toString(), "-cf", tar.toString(), "oci-layout", "index.json", "blobs");
        return tar;
    }

    static String put(Path blobs, byte[] data) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        Files.write(blobs.resolve(hex), data);
        return "sha256:" + hex;
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(List.of(cmd) + " failed: " + out);
    }
}
