package io.urunc.vmm.solo5;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.GuestDeviceHints;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.VmmException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class Solo5HypervisorTest {
    private static VmConfig config(String bin, Optional<NetAttachment> net, List<BlockDevice> blocks, String cmdline) {
        return new VmConfig("vm", Path.of(bin), Path.of("/k/app.hvt"), Optional.empty(), cmdline, new VmResources(512, 1),
                Accelerator.KVM, net, blocks, List.of(), Path.of("/r"), true);
    }

    @Test
    void hvtArgvHasMemoryNetBlockKernelThenCmdline() throws Exception {
        var c = config("/usr/bin/solo5-hvt", Optional.of(new NetAttachment("tap0_urunc", "02:00:00:00:00:05")),
                List.of(new BlockDevice("rootfs", Path.of("/img/root"), false), new BlockDevice("extra", Path.of("/img/e"), false)),
                "{\"cmdline\":\"hello world\"}")
                .withHints(new GuestDeviceHints(MachineKind.PC, "tap", "rootfs", Map.of()));
        assertEquals(List.of("/usr/bin/solo5-hvt", "--mem=512", "--net:tap=tap0_urunc", "--net-mac:tap=02:00:00:00:00:05",
                "--block:rootfs=/img/root", "--block:extra=/img/e", "/k/app.hvt", "{\"cmdline\":\"hello world\"}"),
                Solo5Hypervisor.hvt().plan(c).argv());
    }

    @Test
    void sptUsesDefaultDeviceNamesAndOmitsAnEmptyCmdline() throws Exception {
        var c = config("solo5-spt", Optional.of(new NetAttachment("t", "02:00:00:00:00:06")),
                List.of(new BlockDevice("disk", Path.of("/d"), true)), "");
        assertEquals(List.of("solo5-spt", "--mem=512", "--net:service=t", "--net-mac:service=02:00:00:00:00:06", "--block:storage=/d", "/k/app.hvt"),
                Solo5Hypervisor.spt().plan(c).argv());
    }

    @Test
    void namesBinariesAndExitCodes() {
        assertEquals("hvt", Solo5Hypervisor.hvt().name());
        assertEquals("solo5-spt", Solo5Hypervisor.spt().defaultBinary());
        assertEquals(5, Solo5Hypervisor.hvt().containerExitCode(5));
    }

    @Test
    void initrdIsRejected() {
        var c = new VmConfig("vm", Path.of("solo5-hvt"), Path.of("/k"), Optional.of(Path.of("/i")), "", new VmResources(64, 1),
                Accelerator.KVM, Optional.empty(), List.of(), List.of(), Path.of("/r"), true);
        var e = assertThrows(VmmException.class, () -> Solo5Hypervisor.hvt().plan(c));
        assertTrue(e.getMessage().contains("initrd"), e.getMessage());
    }
}
