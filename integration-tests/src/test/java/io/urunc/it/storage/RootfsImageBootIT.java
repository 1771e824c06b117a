package io.urunc.it.storage;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Guests;
import io.urunc.storage.RootfsImage;
import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.GuestMount;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.qemu.QemuHypervisor;
import io.urunc.vmm.types.LinuxType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ext4 form of {@code mountRootfs} (what a Firecracker guest gets), booted for real on QEMU, since Firecracker is
 * not installable here: the image {@link RootfsImage} builds from a container rootfs, as the first disk, is mounted by
 * the test guest's init as its root (the {@code urunc.mount=blk:rootfs:rw:/} word the linux type writes) and switched
 * into; what the guest writes is in the image afterwards.
 */
class RootfsImageBootIT {
    @Test
    void anInitrdGuestSwitchesIntoTheExt4ImageOfItsRootfs() throws Exception {
        Guests.build();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "uit-rimg");
        try {
            Path rootfs = Files.createDirectories(dir.resolve("rootfs/etc"));
            Files.createDirectories(dir.resolve("rootfs/bin"));
            Files.copy(Path.of("/bin/busybox"), dir.resolve("rootfs/bin/busybox"));
            Files.writeString(rootfs.resolve("app.conf"), "URUNC-EXT4-ROOTFS-OK\n");
            Path image = dir.resolve("rootfs.ext4");
            RootfsImage.build(dir.resolve("rootfs"), image);

            LinuxType linux = new LinuxType();
            GuestSpec guest = new GuestSpec(List.of("/init", "/bin/busybox", "sh", "-c", "cat /etc/app.conf; echo guest-was-here > /written.txt"),
                    Map.of(), Optional.empty(), RootKind.INITRD, null, List.of(new GuestMount(GuestMount.Kind.BLOCK, "rootfs", "/", false)));
            Path out = Containerd.REPO.resolve("guests/out/linux");
            VmConfig config = new VmConfig("rootfs-image", Path.of("/usr/bin/qemu-system-x86_64"), out.resolve("vmlinuz"),
                    Optional.of(out.resolve("initrd.cpio.gz")), linux.kernelCmdline(guest, "qemu", Accelerator.TCG), new VmResources(128, 1),
                    Accelerator.TCG, Optional.empty(), List.of(new BlockDevice("rootfs", image, false)), List.of(), dir, true)
                    .withHints(linux.deviceHints());
            LaunchPlan plan = new QemuHypervisor().plan(config);
            Process q = new ProcessBuilder(plan.argv()).redirectErrorStream(true).start();
            if (!q.waitFor(90, TimeUnit.SECONDS)) {
                q.destroyForcibly().waitFor();
                fail("the guest did not end: " + new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            String console = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, q.exitValue(), console);
            assertTrue(console.contains("mounted blk rootfs on / rw") && console.contains("root is the container rootfs"), console);
            assertTrue(console.contains("URUNC-EXT4-ROOTFS-OK"), console);
            Process read = new ProcessBuilder("debugfs", "-R", "cat /written.txt", image.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(read.waitFor(30, TimeUnit.SECONDS));
            assertEquals("guest-was-here\n", new String(read.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                    "the guest's write is in the image");
        } finally {
            Containerd.deleteTree(dir);
        }
    }
}
