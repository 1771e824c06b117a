package io.urunc.shim.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.image.UnikernelMetadata;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.config.ConfigLoader;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.LaunchPlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Which storage each (type, hypervisor) gets from the planner: volumes, the image's block file, the rootfs. */
class StoragePlanTest {
    @TempDir
    Path dir;

    private static final String CONFIG = """
            [monitors.qemu]
            accelerator = "tcg"
            path = "/bin/true"
            [monitors.firecracker]
            path = "/bin/true"
            [extra_binaries.virtiofsd]
            path = "/bin/true"
            """;
    private final VmPlanner planner;
    private final List<AutoCloseable> held = new ArrayList<>();

    StoragePlanTest() throws Exception {
        planner = new VmPlanner(ConfigLoader.parse(CONFIG, "test"));
    }

    @org.junit.jupiter.api.AfterEach
    void closeHeld() throws Exception {
        for (AutoCloseable c : held) c.close();
    }

    private static UnikernelMetadata md(String type, String hv, Optional<String> initrd, Optional<String> block,
                                        Optional<String> mountPoint, boolean mountRootfs) {
        return new UnikernelMetadata(type, hv, "/boot/vmlinuz", Optional.empty(), initrd, block, mountPoint, Optional.empty(),
                mountRootfs, Map.of());
    }

    private LaunchPlan plan(UnikernelMetadata md, String mounts) throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/boot"));
        Files.writeString(rootfs.resolve("vmlinuz"), "kernel");
        Files.writeString(rootfs.resolve("initrd"), "initrd");
        Files.createDirectories(dir.resolve("rootfs/disk"));
        Files.writeString(dir.resolve("rootfs/disk/data.img"), "disk");
        Files.writeString(dir.resolve("config.json"), "{\"process\":{\"args\":[\"/init\"]},\"mounts\":[" + mounts + "]}");
        Path run = Files.createDirectories(dir.resolve("run" + System.nanoTime()));
        return planner.plan("t1", planner.resolve(md, dir.resolve("rootfs")), Bundle.load(dir), Optional.empty(), run, held::add);
    }

    private String volume() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        return "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"" + data + "\",\"options\":[\"rbind\",\"ro\"]}";
    }

    private static String append(LaunchPlan p) {
        return p.argv().get(p.argv().indexOf("-append") + 1);
    }

    @Test
    void aVolumeOnLinuxQemuIsAVirtiofsdAndAReadOnlyMountWord() throws Exception {
        LaunchPlan p = plan(md("linux", "qemu", Optional.of("/boot/initrd"), Optional.empty(), Optional.empty(), false), volume());
        assertEquals(1, p.backends().size());
        List<String> vfs = p.backends().getFirst().argv();
        assertEquals("/usr/bin/unshare", vfs.getFirst());
        assertTrue(vfs.containsAll(List.of(dir.resolve("data").toString(), "ro", "/bin/true", "sandbox=namespace")), vfs.toString());
        assertTrue(append(p).contains("urunc.mount=virtiofs:vol0:ro:/data"), append(p));
    }

    @Test
    void aMissingVirtiofsdFailsNamingItsConfigKey() throws Exception {
        VmPlanner without = new VmPlanner(ConfigLoader.parse(CONFIG.replace("[extra_binaries.virtiofsd]\npath = \"/bin/true\"",
                "[extra_binaries.virtiofsd]\npath = \"/nonexistent/virtiofsd\""), "test"));
        String mounts = volume();
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/boot"));
        Files.writeString(rootfs.resolve("vmlinuz"), "kernel");
        Files.writeString(dir.resolve("config.json"), "{\"process\":{\"args\":[\"/init\"]},\"mounts\":[" + mounts + "]}");
        var md = md("linux", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), false);
        var e = assertThrows(TtrpcException.class, () -> without.plan("t1", without.resolve(md, dir.resolve("rootfs")), Bundle.load(dir),
                Optional.empty(), Files.createDirectories(dir.resolve("run-x")), held::add));
        assertTrue(e.getMessage().contains("need virtiofsd, which is not at /nonexistent/virtiofsd (set [extra_binaries.virtiofsd] path"), e.getMessage());
    }

    @Test
    void aVolumeForATypeThatCannotMountFailsNamingIt() {
        var e = assertThrows(TtrpcException.class, () -> plan(md("unikraft", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), false), volume()));
        assertTrue(e.getMessage().contains("unikernel type unikraft cannot mount volumes, but the container has /data"), e.getMessage());
    }

    @Test
    void theServiceAccountTokenEveryPodGetsIsNoReasonToRefuseATypeThatCannotMount() throws Exception {
        Path token = Files.createDirectories(dir.resolve("token"));
        LaunchPlan p = plan(md("unikraft", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), false),
                "{\"destination\":\"/var/run/secrets/kubernetes.io/serviceaccount\",\"type\":\"bind\",\"source\":\"" + token
                        + "\",\"options\":[\"rbind\",\"ro\"]}");
        assertTrue(p.backends().isEmpty(), p.backends().toString());
    }

    @Test
    void aVolumeOnFirecrackerFailsForItHasNoSharedFileSystem() {
        var e = assertThrows(TtrpcException.class, () -> plan(md("linux", "firecracker", Optional.empty(), Optional.empty(), Optional.empty(), false), volume()));
        assertTrue(e.getMessage().contains("firecracker has no shared file system device"), e.getMessage());
    }

    @Test
    void theImagesBlockFileIsInheritedAndMountedOrTheRoot() throws Exception {
        LaunchPlan mounted = plan(md("linux", "qemu", Optional.of("/boot/initrd"), Optional.of("/disk/data.img"), Optional.of("/srv"), false), "");
        assertEquals(List.of(3, 4), List.copyOf(new java.util.TreeSet<>(mounted.inheritedFiles().keySet())));
        assertTrue(mounted.inheritedFiles().get(3).writable() && !mounted.inheritedFiles().get(4).writable());
        assertTrue(append(mounted).contains("urunc.mount=blk:blk0:rw:/srv"), append(mounted));
        LaunchPlan root = plan(md("linux", "qemu", Optional.empty(), Optional.of("/disk/data.img"), Optional.of("/"), false), "");
        assertTrue(append(root).contains("root=/dev/vda rw") && !append(root).contains("urunc.mount"), append(root));
        assertEquals(2, held.size(), "each plan's descriptor is held for the task's cleanup");
    }

    @Test
    void mountRootfsIsVirtiofsOnQemuAndAnExt4ImageOnFirecracker() throws Exception {
        LaunchPlan qemu = plan(md("linux", "qemu", Optional.of("/boot/initrd"), Optional.empty(), Optional.empty(), true), "");
        assertEquals("vfsroot", qemu.backends().getFirst().name());
        assertTrue(append(qemu).contains("urunc.mount=virtiofs:fs0:rw:/"), append(qemu));
        LaunchPlan noInitrd = plan(md("linux", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), true), "");
        assertTrue(append(noInitrd).contains("root=fs0 rw rootfstype=virtiofs"), append(noInitrd));

        LaunchPlan fc = plan(md("linux", "firecracker", Optional.empty(), Optional.empty(), Optional.empty(), true), "");
        assertTrue(fc.backends().isEmpty());
        JsonNode vm = new ObjectMapper().readTree(fc.filesToWrite().values().iterator().next());
        JsonNode drive = vm.path("drives").get(0);
        assertEquals("rootfs", drive.path("drive_id").asText());
        Path image = Path.of(drive.path("path_on_host").asText());
        assertTrue(image.endsWith("rootfs.ext4") && Files.size(image) >= 64L << 20, image.toString());
        assertTrue(vm.path("boot-source").path("boot_args").asText().contains("root=/dev/vda rw"), vm.toString());
    }

    @Test
    void mountRootfsIsIgnoredByTypesThatMountNothing() throws Exception {
        LaunchPlan p = plan(md("unikraft", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), true), "");
        assertTrue(p.backends().isEmpty() && !String.join(" ", p.argv()).contains("vhost-user"), p.argv().toString());
    }
}
