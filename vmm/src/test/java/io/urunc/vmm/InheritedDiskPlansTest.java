package io.urunc.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.vmm.cloudhypervisor.CloudHypervisor;
import io.urunc.vmm.firecracker.FirecrackerHypervisor;
import io.urunc.vmm.qemu.QemuHypervisor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A block image from the image, which the shim opens and the VMM inherits on descriptors 3 (read-write) and 4
 * (read-only): no adapter's command line names the image's path. Solo5's is in Solo5HypervisorTest.
 */
class InheritedDiskPlansTest {
    private static final BlockDevice DISK = new BlockDevice("blk0", Path.of("/disk/data,img"), false, List.of(3, 4));

    private static VmConfig config(String binary, Accelerator accel) {
        return new VmConfig("t1", Path.of(binary), Path.of("/run/u/t1/kernel"), Optional.empty(), "console=ttyS0",
                new VmResources(256, 1), accel, Optional.empty(), List.of(DISK), List.of(), Path.of("/run/u/t1"), true);
    }

    private static List<String> after(List<String> argv, String opt) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i + 1 < argv.size(); i++) if (argv.get(i).equals(opt)) out.add(argv.get(i + 1));
        return out;
    }

    @Test
    void qemuPutsBothDescriptorsInOneFdSetAndOpensTheSet() throws Exception {
        List<String> a = new QemuHypervisor().plan(config("qemu-system-x86_64", Accelerator.TCG)).argv();
        assertEquals(List.of("fd=3,set=3,opaque=blk0", "fd=4,set=3,opaque=blk0"), after(a, "-add-fd"));
        assertTrue(after(a, "-drive").contains("file=/dev/fdset/3,format=raw,if=none,id=blk0"), a.toString());
        assertTrue(after(a, "-device").contains("virtio-blk-device,drive=blk0,serial=blk0"), a.toString());
        assertFalse(String.join(" ", a).contains("data,img"), a.toString());
    }

    @Test
    void cloudHypervisorGetsDevFd() throws Exception {
        List<String> a = new CloudHypervisor().plan(config("cloud-hypervisor", Accelerator.KVM)).argv();
        assertEquals(List.of("path=/dev/fd/3,id=blk0"), after(a, "--disk"));
    }

    @Test
    void firecrackerDriveIsDevFd() throws Exception {
        LaunchPlan plan = new FirecrackerHypervisor().plan(config("firecracker", Accelerator.KVM));
        JsonNode drives = new ObjectMapper().readTree(plan.filesToWrite().values().iterator().next()).path("drives");
        assertEquals(1, drives.size());
        assertEquals("blk0", drives.get(0).path("drive_id").asText());
        assertEquals("/dev/fd/3", drives.get(0).path("path_on_host").asText());
        assertFalse(drives.get(0).path("is_read_only").asBoolean(true));
        assertFalse(drives.get(0).path("is_root_device").asBoolean(true));
    }

    @Test
    void aHostBlockDeviceTakesQemusHostDeviceDriverReadOnlyWhenTheVolumeIs() throws Exception {
        BlockDevice dev = new BlockDevice("vdisk0", Path.of("/dev/loop7"), true, List.of(5, 6), true);
        VmConfig c = new VmConfig("t1", Path.of("qemu-system-x86_64"), Path.of("/run/u/t1/kernel"), Optional.empty(), "", new VmResources(256, 1),
                Accelerator.TCG, Optional.empty(), List.of(dev), List.of(), Path.of("/run/u/t1"), true);
        List<String> a = new QemuHypervisor().plan(c).argv();
        assertEquals(List.of("fd=5,set=5,opaque=vdisk0", "fd=6,set=5,opaque=vdisk0"), after(a, "-add-fd"));
        assertEquals(List.of("file.driver=host_device,file.filename=/dev/fdset/5,format=raw,if=none,id=vdisk0,readonly=on"), after(a, "-drive"));
    }
}
