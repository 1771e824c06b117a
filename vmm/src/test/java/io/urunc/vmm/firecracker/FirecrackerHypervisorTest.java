package io.urunc.vmm.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class FirecrackerHypervisorTest {
    private final FirecrackerHypervisor fc = new FirecrackerHypervisor();

    private static VmConfig config(boolean seccomp, Optional<Path> initrd, Optional<NetAttachment> net, List<BlockDevice> blocks) {
        return new VmConfig("vm", Path.of("/usr/bin/firecracker"), Path.of("/k/vmlinux"), initrd, "console=ttyS0 panic=-1",
                new VmResources(256, 2), Accelerator.KVM, net, blocks, List.of(), Path.of("/run/u/vm"), seccomp);
    }

    @Test
    void runsWithoutApiFromAConfigFileInRunDir() throws Exception {
        LaunchPlan plan = fc.plan(config(true, Optional.empty(), Optional.empty(), List.of()));
        assertEquals(List.of("/usr/bin/firecracker", "--no-api", "--config-file", "/run/u/vm/vmconfig.json"), plan.argv());
        assertEquals(java.util.Set.of(Path.of("/run/u/vm/vmconfig.json")), plan.filesToWrite().keySet());
        assertTrue(fc.control(plan).isEmpty());
        assertEquals(List.of("/usr/bin/firecracker", "--no-api", "--config-file", "/run/u/vm/vmconfig.json", "--no-seccomp"),
                fc.plan(config(false, Optional.empty(), Optional.empty(), List.of())).argv());
    }

    @Test
    void configDescribesBootSourceMachineDrivesAndNic() throws Exception {
        LaunchPlan plan = fc.plan(config(true, Optional.of(Path.of("/k/initrd")), Optional.of(new NetAttachment("tap0_urunc", "02:00:00:00:00:09")),
                List.of(new BlockDevice("rootfs", Path.of("/img/root.ext4"), false), new BlockDevice("data", Path.of("/img/d"), true))));
        JsonNode j = new ObjectMapper().readTree(plan.filesToWrite().values().iterator().next());
        assertEquals("/k/vmlinux", j.at("/boot-source/kernel_image_path").asText());
        assertEquals("console=ttyS0 panic=-1", j.at("/boot-source/boot_args").asText());
        assertEquals("/k/initrd", j.at("/boot-source/initrd_path").asText());
        assertEquals(2, j.at("/machine-config/vcpu_count").asInt());
        assertEquals(256, j.at("/machine-config/mem_size_mib").asInt());
        assertFalse(j.at("/machine-config/smt").asBoolean(true));
        assertFalse(j.at("/machine-config/track_dirty_pages").asBoolean(true));
        assertEquals("rootfs", j.at("/drives/0/drive_id").asText());
        assertEquals("/img/root.ext4", j.at("/drives/0/path_on_host").asText());
        assertFalse(j.at("/drives/0/is_read_only").asBoolean(true));
        assertFalse(j.at("/drives/0/is_root_device").asBoolean(true));
        assertTrue(j.at("/drives/1/is_read_only").asBoolean(false));
        assertEquals("net1", j.at("/network-interfaces/0/iface_id").asText());
        assertEquals("02:00:00:00:00:09", j.at("/network-interfaces/0/guest_mac").asText());
        assertEquals("tap0_urunc", j.at("/network-interfaces/0/host_dev_name").asText());
    }

    @Test
    void withoutInitrdOrNicThoseKeysAreAbsentOrEmpty() throws Exception {
        JsonNode j = new ObjectMapper().readTree(FirecrackerHypervisor.configJson(config(true, Optional.empty(), Optional.empty(), List.of())));
        assertTrue(j.at("/boot-source/initrd_path").isMissingNode());
        assertEquals(0, j.get("network-interfaces").size());
        assertEquals(0, j.get("drives").size());
    }

    @Test
    void writeFilesCreatesTheConfigReadableOnlyByOwner(@TempDir Path dir) throws Exception {
        VmConfig c = new VmConfig("vm", Path.of("firecracker"), Path.of("/k"), Optional.empty(), "", new VmResources(128, 1),
                Accelerator.KVM, Optional.empty(), List.of(), List.of(), dir, true);
        LaunchPlan plan = fc.plan(c);
        plan.writeFiles();
        Path f = dir.resolve("vmconfig.json");
        assertEquals(128, new ObjectMapper().readTree(Files.readString(f)).at("/machine-config/mem_size_mib").asInt());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }

    @Test
    void exitStatusIsPassedThrough() {
        assertEquals(0, fc.containerExitCode(0));
        assertEquals(3, fc.containerExitCode(3));
    }
}
