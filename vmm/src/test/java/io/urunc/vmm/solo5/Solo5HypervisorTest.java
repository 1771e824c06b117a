package io.urunc.vmm.solo5;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.VmmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static io.urunc.vmm.solo5.Solo5Images.block;
import static io.urunc.vmm.solo5.Solo5Images.net;
import static org.junit.jupiter.api.Assertions.*;

/** Solo5 is not installable here: the argv is checked against what its tenders accept for a unikernel's manifest. */
class Solo5HypervisorTest {
    private static final Optional<NetAttachment> TAP = Optional.of(new NetAttachment("tap0_urunc", "02:00:00:00:00:05"));

    @TempDir
    Path dir;

    private static VmConfig config(String bin, Path kernel, Optional<NetAttachment> net, List<BlockDevice> blocks, String cmdline) {
        return new VmConfig("vm", Path.of(bin), kernel, Optional.empty(), cmdline, new VmResources(512, 1),
                Accelerator.KVM, net, blocks, List.of(), Path.of("/r"), true);
    }

    private Path unikernel(Solo5Images.Entry... devices) throws Exception {
        return Solo5Images.write(dir, "app" + System.nanoTime() + ".hvt", Solo5Images.elf(List.of(devices)));
    }

    @Test
    void devicesGoUnderTheNamesTheGccBuiltManifestDeclares() throws Exception {
        Path k = Solo5Images.compile(dir, "rumprun", List.of(net("tap"), block("rootfs")));
        var c = config("/usr/bin/solo5-hvt", k, TAP, List.of(new BlockDevice("disk", Path.of("/img/root"), false)), "{\"cmdline\":\"hello world\"}");
        assertEquals(List.of("/usr/bin/solo5-hvt", "--mem=512", "--net:tap=tap0_urunc", "--net-mac:tap=02:00:00:00:00:05",
                "--block:rootfs=/img/root", k.toString(), "{\"cmdline\":\"hello world\"}"), Solo5Hypervisor.hvt().plan(c).argv());
    }

    @Test
    void disksGoToTheDeviceOfTheirOwnNameThenInOrder() throws Exception {
        Path k = unikernel(block("data"), block("storage"), net("service0"));
        var c = config("solo5-spt", k, TAP, List.of(new BlockDevice("a", Path.of("/a"), false), new BlockDevice("storage", Path.of("/s"), true)), "");
        assertEquals(List.of("solo5-spt", "--mem=512", "--net:service0=tap0_urunc", "--net-mac:service0=02:00:00:00:00:05",
                "--block:data=/a", "--block:storage=/s", k.toString()), Solo5Hypervisor.spt().plan(c).argv());
    }

    @Test
    void undeclaredDevicesAreNeverPassed() throws Exception {
        Path k = unikernel();
        var c = config("solo5-hvt", k, TAP, List.of(new BlockDevice("extra", Path.of("/e"), false)), "x");
        assertEquals(List.of("solo5-hvt", "--mem=512", k.toString(), "x"), Solo5Hypervisor.hvt().plan(c).argv());
    }

    @Test
    void aDeclaredNetworkWithoutAnInterfaceFailsNamingIt() throws Exception {
        var e = assertThrows(VmmException.class, () -> Solo5Hypervisor.hvt().plan(config("solo5-hvt", unikernel(net("service0")), Optional.empty(), List.of(), "")));
        assertEquals("the unikernel declares network device 'service0' but the container has no network interface to attach to it", e.getMessage());
    }

    @Test
    void aSecondNetworkDeviceCannotBeSatisfied() throws Exception {
        var e = assertThrows(VmmException.class, () -> Solo5Hypervisor.hvt().plan(config("solo5-hvt", unikernel(net("service0"), net("admin")), TAP, List.of(), "")));
        assertTrue(e.getMessage().contains("'admin' cannot be attached"), e.getMessage());
    }

    @Test
    void aDeclaredDiskWithoutABlockDeviceFailsNamingIt() throws Exception {
        var e = assertThrows(VmmException.class, () -> Solo5Hypervisor.spt().plan(config("solo5-spt", unikernel(block("storage")), TAP, List.of(), "")));
        assertTrue(e.getMessage().startsWith("the unikernel declares block device 'storage' but the container has no disk for it"), e.getMessage());
    }

    @Test
    void aKernelWithoutManifestFailsCreate() throws Exception {
        Path k = Solo5Images.write(dir, "plain", Solo5Images.elf("GNU", 3, 4, new byte[4]));
        var e = assertThrows(VmmException.class, () -> Solo5Hypervisor.hvt().plan(config("solo5-hvt", k, TAP, List.of(), "")));
        assertTrue(e.getMessage().contains("has no Solo5 manifest"), e.getMessage());
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

    /** An image's block file reaches the tender as the descriptor the shim opened, under the name the manifest declares. */
    @Test
    void anInheritedDiskIsPassedAsDevFdUnderItsDeclaredName() throws Exception {
        Path k = unikernel(block("storage"));
        var c = config("solo5-spt", k, Optional.empty(), List.of(new BlockDevice("blk0", Path.of("/disk/data.img"), false, List.of(3, 4))), "");
        assertEquals(List.of("solo5-spt", "--mem=512", "--block:storage=/dev/fd/3", k.toString()), Solo5Hypervisor.spt().plan(c).argv());
    }
}
