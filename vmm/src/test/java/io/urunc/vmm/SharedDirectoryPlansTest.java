package io.urunc.vmm;

import io.urunc.vmm.cloudhypervisor.CloudHypervisor;
import io.urunc.vmm.firecracker.FirecrackerHypervisor;
import io.urunc.vmm.qemu.QemuHypervisor;
import io.urunc.vmm.solo5.Solo5Hypervisor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Volumes shared over virtiofs, as each adapter's command line carries them (or says it cannot). */
class SharedDirectoryPlansTest {
    private static final List<SharedDirectory> TWO = List.of(new SharedDirectory("vol0", Path.of("/run/u/t1/vfs0.sock")),
            new SharedDirectory("vol1", Path.of("/run/u/t1/vfs1.sock")));

    private static VmConfig config(String binary, Accelerator accel, GuestDeviceHints hints, List<SharedDirectory> dirs) {
        return new VmConfig("t1", Path.of(binary), Path.of("/run/u/t1/kernel"), Optional.empty(), "console=ttyS0",
                new VmResources(256, 1), accel, Optional.empty(), List.of(), List.of(), Path.of("/run/u/t1"), true)
                .withHints(hints).withSharedDirs(dirs);
    }

    /** The words after each occurrence of {@code opt}. */
    private static List<String> after(List<String> argv, String opt) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i + 1 < argv.size(); i++) if (argv.get(i).equals(opt)) out.add(argv.get(i + 1));
        return out;
    }

    @Test
    void qemuMicrovmSharesGuestMemoryWithModernMmioVhostUserFsDevices() throws Exception {
        List<String> a = new QemuHypervisor().plan(config("qemu-system-x86_64", Accelerator.TCG, GuestDeviceHints.DEFAULT, TWO)).argv();
        assertEquals(List.of("microvm,memory-backend=mem"), after(a, "-M"));
        assertTrue(after(a, "-object").contains("memory-backend-memfd,id=mem,size=256M,share=on"), a.toString());
        assertTrue(after(a, "-global").contains("virtio-mmio.force-legacy=false"), a.toString());
        assertTrue(after(a, "-chardev").containsAll(List.of("socket,id=vfs0,path=/run/u/t1/vfs0.sock", "socket,id=vfs1,path=/run/u/t1/vfs1.sock")), a.toString());
        assertTrue(after(a, "-device").containsAll(List.of("vhost-user-fs-device,chardev=vfs0,tag=vol0", "vhost-user-fs-device,chardev=vfs1,tag=vol1")), a.toString());
    }

    @Test
    void qemuPcUsesThePciDeviceAndNoMmioGlobal() throws Exception {
        List<String> a = new QemuHypervisor().plan(config("qemu-system-x86_64", Accelerator.TCG,
                GuestDeviceHints.DEFAULT.withMachine(MachineKind.PC), TWO.subList(0, 1))).argv();
        assertEquals(List.of("pc,memory-backend=mem"), after(a, "-M"));
        assertTrue(after(a, "-global").isEmpty(), a.toString());
        assertTrue(after(a, "-device").contains("vhost-user-fs-pci,chardev=vfs0,tag=vol0"), a.toString());
    }

    @Test
    void qemuWithoutVolumesKeepsPrivateMemory() throws Exception {
        List<String> a = new QemuHypervisor().plan(config("qemu-system-x86_64", Accelerator.TCG, GuestDeviceHints.DEFAULT, List.of())).argv();
        assertEquals(List.of("microvm"), after(a, "-M"));
        assertTrue(after(a, "-object").isEmpty() && !String.join(" ", a).contains("vhost-user"), a.toString());
    }

    @Test
    void qemuRefusesASocketPathLongerThanSunPath() {
        Path deep = Path.of("/run/" + "d".repeat(100) + "/vfs0.sock");
        var e = assertThrows(VmmException.class, () -> new QemuHypervisor().plan(config("qemu-system-x86_64", Accelerator.TCG,
                GuestDeviceHints.DEFAULT, List.of(new SharedDirectory("vol0", deep)))));
        assertTrue(e.getMessage().startsWith("virtiofs socket path " + deep), e.getMessage());
    }

    @Test
    void cloudHypervisorGoldenFsArgumentsWithSharedMemory() throws Exception {
        List<String> a = new CloudHypervisor().plan(config("cloud-hypervisor", Accelerator.KVM, GuestDeviceHints.DEFAULT, TWO)).argv();
        assertEquals(List.of("size=256M,shared=on"), after(a, "--memory"));
        assertEquals(List.of("tag=vol0,socket=/run/u/t1/vfs0.sock", "tag=vol1,socket=/run/u/t1/vfs1.sock"), after(a, "--fs"));
    }

    @Test
    void firecrackerAndSolo5SayTheyHaveNoSharedFileSystem() {
        var fc = assertThrows(VmmException.class, () -> new FirecrackerHypervisor().plan(config("firecracker", Accelerator.KVM, GuestDeviceHints.DEFAULT, TWO)));
        assertEquals("firecracker has no shared file system device (no virtiofs, no 9p): the directory volume shared as 'vol0' cannot be passed to the guest", fc.getMessage());
        var hvt = assertThrows(VmmException.class, () -> Solo5Hypervisor.hvt().plan(config("solo5-hvt", Accelerator.KVM, GuestDeviceHints.DEFAULT, TWO)));
        assertTrue(hvt.getMessage().startsWith("solo5-hvt has no shared file system device"), hvt.getMessage());
    }
}
