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
            [monitors.cloud-hypervisor]
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

    /** A rootfs as containerd's blockfile snapshotter gives it: an ext4 image with the boot files, mounted through a loop device. */
    private io.urunc.storage.MountedRootfs blockfileRootfs() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.urunc.sys.Libc.geteuid() == 0, "loop mounts need root");
        Path tree = Files.createDirectories(dir.resolve("tree/boot"));
        Files.writeString(tree.resolve("vmlinuz"), "kernel");
        Files.writeString(tree.resolve("initrd"), "initrd");
        Files.createDirectories(dir.resolve("tree/disk"));
        Files.writeString(dir.resolve("tree/disk/data.img"), "disk");
        Path image = dir.resolve("snapshot" + System.nanoTime() + ".ext4");
        Process mkfs = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-d", dir.resolve("tree").toString(), image.toString(), "8M")
                .redirectErrorStream(true).start();
        assertEquals(0, mkfs.waitFor(), new String(mkfs.getInputStream().readAllBytes()));
        var mounted = io.urunc.storage.RootfsMount.mount(List.of(new io.urunc.storage.MountSpec("ext4", image.toString(), "",
                List.of("rw", "loop"))), dir.resolve("rootfs" + System.nanoTime()));
        held.add(mounted);
        return mounted;
    }

    private LaunchPlan planOn(io.urunc.storage.MountedRootfs rootfs, UnikernelMetadata md) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"process\":{\"args\":[\"/init\"]},\"mounts\":[]}");
        Path run = Files.createDirectories(dir.resolve("run" + System.nanoTime()));
        return planner.plan("t1", planner.resolve(md, rootfs), Bundle.load(dir), Optional.empty(), run, held::add);
    }

    @Test
    void mountRootfsOnABlockfileSnapshotGivesItsImageAsTheRootDiskAndUnmountsItFromTheHost() throws Exception {
        var rootfs = blockfileRootfs();
        Path image = rootfs.blockImage().orElseThrow().file();
        LaunchPlan qemu = planOn(rootfs, md("linux", "qemu", Optional.of("/boot/initrd"), Optional.empty(), Optional.empty(), true));
        assertFalse(rootfs.isMounted(), "the host has let go of the file system before the guest gets it");
        assertTrue(qemu.backends().isEmpty(), "no virtiofsd: " + qemu.backends());
        String argv = String.join(" ", qemu.argv());
        assertTrue(argv.contains("-add-fd fd=3,set=3,opaque=rootfs -add-fd fd=4,set=3,opaque=rootfs"), argv);
        assertTrue(argv.contains("-drive file=/dev/fdset/3,format=raw,if=none,id=rootfs"), argv);
        assertFalse(argv.contains(image.toString()), "no path reaches QEMU: " + argv);
        assertTrue(append(qemu).contains("urunc.mount=blk:rootfs:rw:/"), append(qemu));
        assertTrue(qemu.inheritedFiles().get(3).writable() && !qemu.inheritedFiles().get(4).writable());
        assertEquals(image, qemu.inheritedFiles().get(3).openedAs().toRealPath(), "the snapshot's own file");
        assertEquals("kernel", Files.readString(qemu.bootFiles().getFirst()), "the kernel was copied out before the unmount");
    }

    @Test
    void withoutAnInitrdTheSnapshotDiskIsTheKernelsRootAndFirecrackerAndCloudHypervisorGetItToo() throws Exception {
        LaunchPlan qemu = planOn(blockfileRootfs(), md("linux", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), true));
        assertTrue(append(qemu).contains("root=/dev/vda rw") && !append(qemu).contains("urunc.mount"), append(qemu));

        LaunchPlan fc = planOn(blockfileRootfs(), md("linux", "firecracker", Optional.empty(), Optional.empty(), Optional.empty(), true));
        JsonNode drive = new ObjectMapper().readTree(fc.filesToWrite().values().iterator().next()).path("drives").get(0);
        assertEquals("rootfs", drive.path("drive_id").asText());
        assertEquals("/dev/fd/3", drive.path("path_on_host").asText(), "the snapshot, not an ext4 image built from it");

        LaunchPlan ch = planOn(blockfileRootfs(), md("linux", "cloud-hypervisor", Optional.empty(), Optional.empty(), Optional.empty(), true));
        String argv = String.join(" ", ch.argv());
        assertTrue(argv.contains("--disk path=/dev/fd/3,id=rootfs") && !argv.contains("--fs"), "a disk rather than virtiofs: " + argv);
    }

    @Test
    void aBlockfileSnapshotStaysMountedOnTheHostWhenTheGuestDoesNotTakeIt() throws Exception {
        var plain = blockfileRootfs();
        LaunchPlan p = planOn(plain, md("linux", "qemu", Optional.of("/boot/initrd"), Optional.empty(), Optional.empty(), false));
        assertTrue(plain.isMounted() && !String.join(" ", p.argv()).contains("id=rootfs"), p.argv().toString());
        var unikraft = blockfileRootfs();
        LaunchPlan u = planOn(unikraft, md("unikraft", "qemu", Optional.empty(), Optional.empty(), Optional.empty(), true));
        assertTrue(unikraft.isMounted() && !String.join(" ", u.argv()).contains("id=rootfs"), u.argv().toString());
    }

    @Test
    void anImagesBlockFileInsideASnapshotTheGuestTakesFailsNamingBoth() throws Exception {
        var rootfs = blockfileRootfs();
        TtrpcException e = assertThrows(TtrpcException.class, () -> planOn(rootfs,
                md("linux", "qemu", Optional.of("/boot/initrd"), Optional.of("/disk/data.img"), Optional.of("/srv"), true)));
        assertTrue(e.getMessage().contains("com.urunc.unikernel.block: /disk/data.img is inside the rootfs snapshot"), e.getMessage());
        assertTrue(rootfs.isMounted(), "refused before anything was taken from the host");
    }
}
