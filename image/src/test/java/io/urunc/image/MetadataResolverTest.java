package io.urunc.image;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.urunc.image.Annotations.BINARY;
import static io.urunc.image.Annotations.CMDLINE;
import static io.urunc.image.Annotations.HYPERVISOR;
import static io.urunc.image.Annotations.INITRD;
import static io.urunc.image.Annotations.MOUNT_ROOTFS;
import static io.urunc.image.Annotations.UNIKERNEL_TYPE;
import static io.urunc.image.Annotations.UNIKERNEL_VERSION;
import static io.urunc.image.Annotations.USE_DM_BLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataResolverTest {
    @TempDir Path tmp;
    Path rootfs;

    @BeforeEach
    void rootfs() throws IOException {
        rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        Files.createDirectories(rootfs.resolve("unikernel"));
        Files.writeString(rootfs.resolve("unikernel/app.qemu"), "kernel");
        Files.writeString(rootfs.resolve("unikernel/initrd"), "initrd");
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static Map<String, String> basic() {
        return Map.of(UNIKERNEL_TYPE, "unikraft", HYPERVISOR, "qemu", BINARY, "/unikernel/app.qemu");
    }

    record FakeContainerd(Map<String, String> labels, Map<String, String> manifest) implements ContainerdMetadataSource {
        public Map<String, String> containerLabels(String ns, String id) { return labels; }
        public Map<String, String> imageManifestAnnotations(String ns, String id) { return manifest; }
    }

    /** Docker's containerd image store: the container names the image; only the image's config has labels. */
    record ImageConfigOnly(Map<String, String> configLabels) implements ContainerdMetadataSource {
        public Map<String, String> containerLabels(String ns, String id) { return Map.of(); }
        public Map<String, String> imageManifestAnnotations(String ns, String id) { return Map.of(); }
        public Map<String, String> imageConfigLabels(String ns, String id) { return configLabels; }
    }

    @Test
    void imageConfigLabelsAreASourceAfterContainerLabelsAndBeforeUruncJson() throws Exception {
        uruncJson("{\"" + HYPERVISOR + "\": \"" + b64("firecracker") + "\", \"" + UNIKERNEL_TYPE + "\": \"" + b64("linux") + "\"}");
        UnikernelMetadata md = resolve(Map.of(), new ImageConfigOnly(Map.of(UNIKERNEL_TYPE, "unikraft", HYPERVISOR, "qemu",
                BINARY, "/unikernel/app.qemu"))).orElseThrow();
        assertEquals("unikraft", md.unikernelType());
        assertEquals("qemu", md.hypervisor(), "the image config wins over /urunc.json");
        assertEquals("image config label", md.sources().get(HYPERVISOR));
        Files.delete(rootfs.resolve("urunc.json"));

        var e = assertThrows(InvalidMetadataException.class,
                () -> resolve(Map.of(), new ImageConfigOnly(Map.of(UNIKERNEL_TYPE, "unikraft", BINARY, "/unikernel/app.qemu"))));
        assertTrue(e.getMessage().contains(HYPERVISOR + " is missing"), "names the missing key: " + e.getMessage());
    }

    /** A Create starts containerd's read before its bundle and rootfs are ready and resolves once they are. */
    @Test
    void containerdIsReadBeforeResolveIsAskedAndItsFailureIsReportedTheSame() throws Exception {
        java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
        ContainerdMetadataSource labels = new ContainerdMetadataSource() {
            public Map<String, String> containerLabels(String ns, String id) {
                asked.countDown();
                return Map.of(UNIKERNEL_TYPE, "unikraft", HYPERVISOR, "qemu", BINARY, "/unikernel/app.qemu");
            }
            public Map<String, String> imageManifestAnnotations(String ns, String id) { return Map.of(); }
        };
        var permits = new java.util.concurrent.Semaphore(1);
        MetadataResolver resolver = new MetadataResolver(labels);
        MetadataResolver.Prefetch read = resolver.prefetch("default", "c1", permits);
        assertTrue(asked.await(10, java.util.concurrent.TimeUnit.SECONDS), "containerd was asked before resolve");
        UnikernelMetadata md = resolver.resolve(Map.of(), rootfs, read).orElseThrow();
        assertEquals("qemu", md.hypervisor());
        assertEquals("container label", md.sources().get(HYPERVISOR));
        assertEquals(1, permits.availablePermits(), "every permit given back");

        ContainerdMetadataSource broken = new ContainerdMetadataSource() {
            public Map<String, String> containerLabels(String ns, String id) throws IOException { throw new IOException("deadline exceeded"); }
            public Map<String, String> imageManifestAnnotations(String ns, String id) { return Map.of(); }
        };
        MetadataResolver failing = new MetadataResolver(broken);
        var e = assertThrows(InvalidMetadataException.class,
                () -> failing.resolve(Map.of(), rootfs, failing.prefetch("default", "c1", permits)));
        assertTrue(e.getMessage().contains("from containerd: deadline exceeded"), e.getMessage());
        assertEquals(1, permits.availablePermits());
        assertEquals(Optional.empty(), new MetadataResolver(null).resolve(Map.of(), rootfs,
                new MetadataResolver(null).prefetch("default", "c1", permits)), "no containerd, no metadata: not a unikernel");
    }

    private Optional<UnikernelMetadata> resolve(Map<String, String> spec, ContainerdMetadataSource cd) throws Exception {
        return new MetadataResolver(cd).resolve(spec, rootfs, "default", "c1");
    }

    private void uruncJson(String json) throws IOException {
        Files.writeString(rootfs.resolve("urunc.json"), json);
    }

    @Test
    void declaredPortsComeFromTheImageAndASpecAnnotationOverridesThem() throws Exception {
        var image = new ImageConfigOnly(Map.of(UNIKERNEL_TYPE, "unikraft", HYPERVISOR, "qemu",
                BINARY, "/unikernel/app.qemu", Annotations.PORTS, "80"));
        UnikernelMetadata md = resolve(Map.of(), image).orElseThrow();
        assertEquals(Optional.of("80"), md.ports());
        assertEquals("image config label", md.sources().get(Annotations.PORTS));
        assertEquals(Optional.of("8081/tcp"), resolve(Map.of(Annotations.PORTS, "8081/tcp"), image).orElseThrow().ports());
        assertEquals(Optional.empty(), resolve(basic(), null).orElseThrow().ports());
    }

    @Test
    void noUruncKeyAnywhereMeansNotAUnikernel() throws Exception {
        var cd = new FakeContainerd(Map.of("io.cri-containerd.image", "managed"), Map.of("org.opencontainers.image.title", "pause"));
        assertTrue(resolve(Map.of("io.kubernetes.cri.container-type", "sandbox"), cd).isEmpty());
        assertTrue(resolve(Map.of(), null).isEmpty());
    }

    @Test
    void plainSpecAnnotationsAreUsedAsIs() throws Exception {
        Map<String, String> spec = new HashMap<>(basic());
        spec.put(INITRD, "/unikernel/initrd");
        spec.put(UNIKERNEL_VERSION, "0.17.0");
        UnikernelMetadata md = resolve(spec, null).orElseThrow();
        assertEquals("unikraft", md.unikernelType());
        assertEquals("qemu", md.hypervisor());
        assertEquals("/unikernel/app.qemu", md.binary());
        assertEquals(Optional.of("/unikernel/initrd"), md.initrd());
        assertEquals(Optional.of("0.17.0"), md.unikernelVersion());
        assertFalse(md.mountRootfs());
        assertEquals("OCI spec annotation", md.sources().get(BINARY));
    }

    @Test
    void precedenceIsSpecThenManifestThenLabelsThenUruncJson() throws Exception {
        uruncJson("""
                {"com.urunc.unikernel.unikernelType": "%s", "com.urunc.unikernel.hypervisor": "%s",
                 "com.urunc.unikernel.binary": "%s", "com.urunc.unikernel.cmdline": "%s"}
                """.formatted(b64("json-type"), b64("json-hv"), b64("/unikernel/app.qemu"), b64("from json")));
        var cd = new FakeContainerd(
                Map.of(HYPERVISOR, b64("label-hv"), CMDLINE, b64("from label")),
                Map.of(CMDLINE, b64("from manifest")));
        UnikernelMetadata md = resolve(Map.of(UNIKERNEL_TYPE, "spec-type"), cd).orElseThrow();
        assertEquals("spec-type", md.unikernelType());
        assertEquals("label-hv", md.hypervisor());
        assertEquals(Optional.of("from manifest"), md.cmdline());
        assertEquals("/unikernel/app.qemu", md.binary());
        assertEquals(Map.of(UNIKERNEL_TYPE, "OCI spec annotation", HYPERVISOR, "container label",
                CMDLINE, "image manifest annotation", BINARY, "/urunc.json"), md.sources());
    }

    @Test
    void imageValuesDecodeBase64OrB64PrefixOrStayPlain() throws Exception {
        // urunc 0.5 style (all base64), b64: prefix, and plain values that happen to be 4n chars long
        uruncJson("""
                {"com.urunc.unikernel.unikernelType": "%s", "com.urunc.unikernel.hypervisor": "qemu",
                 "com.urunc.unikernel.binary": "b64:%s", "com.urunc.unikernel.mountRootfs": "true"}
                """.formatted(b64("unikraft"), b64("/unikernel/app.qemu")));
        UnikernelMetadata md = resolve(Map.of(), null).orElseThrow();
        assertEquals("unikraft", md.unikernelType());
        assertEquals("qemu", md.hypervisor());
        assertEquals("/unikernel/app.qemu", md.binary());
        assertTrue(md.mountRootfs());
    }

    @Test
    void specAnnotationsAreNotGuessedButHonourB64Prefix() throws Exception {
        Map<String, String> spec = new HashMap<>(basic());
        spec.put(CMDLINE, b64("hello"));             // "aGVsbG8=" stays as typed: the user wrote it
        spec.put(UNIKERNEL_VERSION, "b64:" + b64("0.16.1"));
        UnikernelMetadata md = resolve(spec, null).orElseThrow();
        assertEquals(Optional.of(b64("hello")), md.cmdline());
        assertEquals(Optional.of("0.16.1"), md.unikernelVersion());
    }

    @Test
    void badB64PrefixedValueNamesKeyAndSource() {
        var cd = new FakeContainerd(Map.of(), Map.of(UNIKERNEL_TYPE, "b64:not base64!", HYPERVISOR, "qemu", BINARY, "/unikernel/app.qemu"));
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(Map.of(), cd));
        assertTrue(e.getMessage().startsWith(UNIKERNEL_TYPE + " (from image manifest annotation): "), e.getMessage());
        // base64 of bytes that are not UTF-8
        var cd2 = new FakeContainerd(Map.of(), Map.of(UNIKERNEL_TYPE, "b64:" + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, (byte) 0xfe})));
        assertThrows(InvalidMetadataException.class, () -> resolve(Map.of(), cd2));
    }

    @Test
    void missingRequiredKeyIsNamed() {
        var e = assertThrows(InvalidMetadataException.class,
                () -> resolve(Map.of(UNIKERNEL_TYPE, "unikraft", HYPERVISOR, "qemu"), null));
        assertTrue(e.getMessage().startsWith(BINARY + " is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("OCI spec annotation"), e.getMessage());
    }

    @Test
    void binaryMustExistInTheRootfs() {
        Map<String, String> spec = new HashMap<>(basic());
        spec.put(BINARY, "/x");
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(spec, null));
        assertEquals(BINARY + " (from OCI spec annotation): /x: no such file in the container rootfs", e.getMessage());
        spec.put(BINARY, "../../etc/passwd");
        var esc = assertThrows(InvalidMetadataException.class, () -> resolve(spec, null));
        assertTrue(esc.getMessage().contains("climbs above the container rootfs root"), esc.getMessage());
    }

    @Test
    void badBooleanIsRejectedAndLegacyUseDMBlockIsRead() throws Exception {
        Map<String, String> spec = new HashMap<>(basic());
        spec.put(MOUNT_ROOTFS, "yes");
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(spec, null));
        assertTrue(e.getMessage().startsWith(MOUNT_ROOTFS + " (from OCI spec annotation): expected a boolean"), e.getMessage());
        spec.remove(MOUNT_ROOTFS);
        spec.put(USE_DM_BLOCK, "True");
        assertTrue(resolve(spec, null).orElseThrow().mountRootfs());
    }

    @Test
    void garbageUruncJsonIsAnError() throws Exception {
        uruncJson("{not json");
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(Map.of(), null));
        assertTrue(e.getMessage().startsWith("/urunc.json is not valid JSON"), e.getMessage());
        uruncJson("[1,2]");
        assertThrows(InvalidMetadataException.class, () -> resolve(Map.of(), null));
        uruncJson("{\"com.urunc.unikernel.binary\": {\"nested\": 1}}");
        var nested = assertThrows(InvalidMetadataException.class, () -> resolve(Map.of(), null));
        assertTrue(nested.getMessage().contains("must be a string"), nested.getMessage());
    }

    @Test
    void aMegabyteUruncJsonOfForeignKeysCostsItsBytesNotATreeOfThem() throws Exception {
        StringBuilder json = new StringBuilder("{\"com.urunc.unikernel.binary\":\"/k\"");
        for (int i = 0; json.length() < UruncJson.MAX_BYTES - 64; i++) json.append(",\"x.").append(i).append("\":\"y\"");
        byte[] bytes = json.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        UruncJson.entries(bytes);
        long before = threads.getCurrentThreadAllocatedBytes();
        Map<String, String> entries = UruncJson.entries(bytes);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(Map.of("com.urunc.unikernel.binary", "/k"), entries);
        // a key read as a token costs one short-lived String; as a tree node it costs four, kept until the end
        assertTrue(allocated < 6L * bytes.length, "a " + bytes.length + "-byte urunc.json allocated " + allocated);
    }

    @Test
    void oversizedUruncJsonIsRefused() throws Exception {
        Files.write(rootfs.resolve("urunc.json"), new byte[UruncJson.MAX_BYTES + 1]);
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(Map.of(), null));
        assertTrue(e.getMessage().contains("more than the"), e.getMessage());
    }

    @Test
    void uruncJsonSymlinkCannotEscapeTheRootfs() throws Exception {
        // a host file next to the rootfs with a valid config: following the link naively would read it
        Files.writeString(tmp.resolve("host.json"), "{\"com.urunc.unikernel.unikernelType\": \"evil\"}");
        Files.createSymbolicLink(rootfs.resolve("urunc.json"), Path.of("../host.json"));
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(basic(), null));
        assertTrue(e.getMessage().contains("climbs above"), e.getMessage());
        Files.delete(rootfs.resolve("urunc.json"));
        Files.createSymbolicLink(rootfs.resolve("urunc.json"), tmp.resolve("host.json")); // absolute: re-rooted, missing
        assertEquals("unikraft", resolve(basic(), null).orElseThrow().unikernelType());
    }

    @Test
    void containerdFailureIsReportedNotSwallowed() {
        ContainerdMetadataSource broken = new ContainerdMetadataSource() {
            public Map<String, String> containerLabels(String ns, String id) throws IOException { throw new IOException("deadline exceeded"); }
            public Map<String, String> imageManifestAnnotations(String ns, String id) throws IOException { throw new IOException("deadline exceeded"); }
        };
        var e = assertThrows(InvalidMetadataException.class, () -> resolve(basic(), broken));
        assertTrue(e.getMessage().contains("from containerd: deadline exceeded"), e.getMessage());
    }

    @Test
    void appArgsFollowProcessArgsUnlessTheyAreBimasDefault() {
        UnikernelMetadata withCmdline = new UnikernelMetadata("rumprun", "hvt", "/unikernel/redis.hvt",
                Optional.of("redis-server  /data/conf/redis.conf"), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), false, Map.of());
        assertEquals(List.of("redis-server", "/data/conf/redis.conf"), MetadataResolver.appArgs(withCmdline, List.of()));
        assertEquals(List.of("redis-server", "/data/conf/redis.conf"),
                MetadataResolver.appArgs(withCmdline, List.of("/unikernel/redis.hvt")));
        assertEquals(List.of("/bin/app", "--flag"), MetadataResolver.appArgs(withCmdline, List.of("/bin/app", "--flag")));
        UnikernelMetadata noCmdline = new UnikernelMetadata("linux", "qemu", "/kernel", Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), false, Map.of());
        assertEquals(List.of("/kernel"), MetadataResolver.appArgs(noCmdline, List.of("/kernel")));
        assertEquals(List.of(), MetadataResolver.appArgs(noCmdline, List.of()));
    }
}
