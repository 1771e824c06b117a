package io.urunc.vmm.qemu;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.GuestDeviceHints;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.VmmException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class QemuHypervisorTest {
    private final QemuHypervisor qemu = new QemuHypervisor();

    static VmConfig config(Accelerator accel, Optional<NetAttachment> net, List<BlockDevice> blocks, Path runDir, boolean seccomp) {
        return new VmConfig("vm1", Path.of("/usr/bin/qemu-system-x86_64"), Path.of("/k/vmlinuz"), Optional.of(Path.of("/k/initrd")),
                "console=ttyS0 panic=-1", new VmResources(128, 2), accel, net, blocks, List.of("-extra", "x"), runDir, seccomp);
    }

    /** Finds the value following option {@code opt}; fails if absent. */
    static String valueOf(List<String> argv, String opt) {
        int i = argv.indexOf(opt);
        assertTrue(i >= 0 && i + 1 < argv.size(), "missing " + opt + " in " + argv);
        return argv.get(i + 1);
    }

    static List<String> valuesOf(List<String> argv, String opt) {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i + 1 < argv.size(); i++) if (argv.get(i).equals(opt)) out.add(argv.get(i + 1));
        return out;
    }

    @Test
    void microvmPlanHasDirectBootConsoleQmpDebugExitAndMmioDevices() throws Exception {
        LaunchPlan plan = qemu.plan(config(Accelerator.TCG, Optional.of(new NetAttachment("tap0_urunc", "02:00:00:00:00:01")),
                List.of(new BlockDevice("rootfs", Path.of("/img/root.raw"), true), new BlockDevice("data", Path.of("/img/d.raw"), false)),
                Path.of("/run/u/vm1"), true));
        List<String> a = plan.argv();
        assertEquals("/usr/bin/qemu-system-x86_64", a.getFirst());
        assertEquals("microvm", valueOf(a, "-M"));
        assertEquals("tcg", valueOf(a, "-accel"));
        assertEquals("max", valueOf(a, "-cpu"));
        assertEquals("128M", valueOf(a, "-m"));
        assertEquals("2", valueOf(a, "-smp"));
        for (String flag : List.of("-nodefaults", "-no-user-config", "-no-reboot")) assertTrue(a.contains(flag), flag);
        assertEquals("none", valueOf(a, "-display"));
        assertEquals("stdio,id=console,signal=off", valueOf(a, "-chardev"));
        assertEquals("chardev:console", valueOf(a, "-serial"));
        assertEquals("unix:/run/u/vm1/qmp.sock,server=on,wait=off", valueOf(a, "-qmp"));
        assertEquals(Optional.of(Path.of("/run/u/vm1/qmp.sock")), plan.controlSocket());
        assertEquals(QemuHypervisor.SANDBOX, valueOf(a, "-sandbox"));
        assertEquals("/k/vmlinuz", valueOf(a, "-kernel"));
        assertEquals("/k/initrd", valueOf(a, "-initrd"));
        assertEquals("console=ttyS0 panic=-1", valueOf(a, "-append"));
        assertEquals("tap,id=net0,ifname=tap0_urunc,script=no,downscript=no", valueOf(a, "-netdev"));
        assertEquals(List.of("isa-debug-exit,iobase=0x501,iosize=2", "pvpanic", "virtio-net-device,netdev=net0,mac=02:00:00:00:00:01",
                "virtio-blk-device,drive=rootfs,serial=rootfs", "virtio-blk-device,drive=data,serial=data"), valuesOf(a, "-device"));
        assertEquals(List.of("file=/img/root.raw,format=raw,if=none,id=rootfs,readonly=on", "file=/img/d.raw,format=raw,if=none,id=data"),
                valuesOf(a, "-drive"));
        assertEquals(List.of("-extra", "x"), a.subList(a.size() - 2, a.size()), "type extras come last");
        assertTrue(plan.filesToWrite().isEmpty());
    }

    @Test
    void pcMachineUsesPciDevicesAndNicPropertiesFromHints() throws Exception {
        VmConfig c = config(Accelerator.KVM, Optional.of(new NetAttachment("t0", "02:00:00:00:00:02")),
                List.of(new BlockDevice("b", Path.of("/b"), false)), Path.of("/r"), false)
                .withHints(new GuestDeviceHints(MachineKind.PC, Map.of("disable-legacy", "on", "disable-modern", "off")));
        List<String> a = qemu.plan(c).argv();
        assertEquals("pc", valueOf(a, "-M"));
        assertEquals("kvm", valueOf(a, "-accel"));
        assertEquals("host", valueOf(a, "-cpu"));
        assertFalse(a.contains("-sandbox"), "no sandbox without seccomp");
        assertTrue(valuesOf(a, "-device").contains("virtio-net-pci,netdev=net0,mac=02:00:00:00:00:02,disable-legacy=on,disable-modern=off"));
        assertTrue(valuesOf(a, "-device").contains("virtio-blk-pci,drive=b,serial=b"));
    }

    @Test
    void noNetAndNoInitrdMeansNoSuchOptions() throws Exception {
        VmConfig c = new VmConfig("v", Path.of("qemu-system-x86_64"), Path.of("/k"), Optional.empty(), "", new VmResources(64, 1),
                Accelerator.TCG, Optional.empty(), List.of(), List.of(), Path.of("/r"), false);
        List<String> a = qemu.plan(c).argv();
        assertFalse(a.contains("-netdev"));
        assertFalse(a.contains("-initrd"));
        assertFalse(a.contains("-drive"));
        assertEquals("", valueOf(a, "-append"));
    }

    @Test
    void commasInPathsAreDoubledForQemuOptionParsing() throws Exception {
        List<String> a = qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(new BlockDevice("d", Path.of("/a,b.raw"), false)),
                Path.of("/r,x"), false)).argv();
        assertEquals("file=/a,,b.raw,format=raw,if=none,id=d", valueOf(a, "-drive"));
        assertEquals("unix:/r,,x/qmp.sock,server=on,wait=off", valueOf(a, "-qmp"));
    }

    @Test
    void unresolvedAutoAcceleratorIsRejected() {
        VmmException e = assertThrows(VmmException.class, () -> qemu.plan(config(Accelerator.AUTO, Optional.empty(), List.of(), Path.of("/r"), false)));
        assertTrue(e.getMessage().contains("AUTO"), e.getMessage());
    }

    @Test
    void tooLongQmpSocketPathIsRejectedWithTheLimit() throws Exception {
        Path ok = Path.of("/" + String.join("", Collections.nCopies(106 - "/qmp.sock".length(), "a")));
        assertEquals(107, ok.resolve("qmp.sock").toString().length());
        qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(), ok, false));
        Path tooLong = Path.of(ok + "b");
        VmmException e = assertThrows(VmmException.class, () -> qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(), tooLong, false)));
        assertTrue(e.getMessage().contains("108 bytes") && e.getMessage().contains("107"), e.getMessage());
    }

    @Test
    void exitStatusMapsToContainerExitCode() {
        assertEquals(0, qemu.containerExitCode(0), "guest powered off");
        assertEquals(1, qemu.containerExitCode(1), "QEMU's own failure");
        assertEquals(1, qemu.containerExitCode(3), "debug-exit value 1");
        assertEquals(42, qemu.containerExitCode((42 << 1) | 1));
        assertEquals(127, qemu.containerExitCode(255));
        assertEquals(2, qemu.containerExitCode(2), "even non-zero status passes through");
    }

    @Test
    void controlIsQmpOnThePlannedSocket() throws Exception {
        LaunchPlan plan = qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(), Path.of("/r"), false));
        assertInstanceOf(QmpClient.class, qemu.control(plan).orElseThrow());
    }

    @Test
    void kernelOrInitrdPathsThatQemuWouldParseAreRefused() {
        for (String bad : List.of("/k/i,/etc/shadow", "/k/a b", "/k/tab\there", "/k/nbsp\u00a0x")) {
            VmConfig c = new VmConfig("vm1", Path.of("/usr/bin/qemu-system-x86_64"), Path.of("/k/vmlinuz"), Optional.of(Path.of(bad)),
                    "", new VmResources(64, 1), Accelerator.TCG, Optional.empty(), List.of(), List.of(), Path.of("/run/u/vm1"), true);
            VmmException e = assertThrows(VmmException.class, () -> qemu.plan(c), bad);
            assertTrue(e.getMessage().startsWith("initrd path " + bad + " contains"), e.getMessage());
            VmConfig k = new VmConfig("vm1", Path.of("/usr/bin/qemu-system-x86_64"), Path.of(bad), Optional.empty(),
                    "", new VmResources(64, 1), Accelerator.TCG, Optional.empty(), List.of(), List.of(), Path.of("/run/u/vm1"), true);
            assertThrows(VmmException.class, () -> qemu.plan(k), bad);
        }
    }

    @Test
    void aVmmWithARunAsUserDropsToItAndIntoItsRunDirOnceStarted() throws Exception {
        VmConfig c = config(Accelerator.TCG, Optional.empty(), List.of(), Path.of("/run/u/vm1"), true)
                .withRunAs(new io.urunc.vmm.VmmUser(2000000007L, 2000000007L));
        List<String> a = qemu.plan(c).argv();
        assertEquals("2000000007:2000000007", valueOf(a, "-runas"));
        assertEquals("/run/u/vm1", valueOf(a, "-chroot"));
        assertEquals(QemuHypervisor.SANDBOX_RUNAS, valueOf(a, "-sandbox"), "QEMU's own setuid must pass its filter");
        List<String> root = qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(), Path.of("/run/u/vm1"), true)).argv();
        assertFalse(root.contains("-runas"));
        assertEquals(QemuHypervisor.SANDBOX, valueOf(root, "-sandbox"));
    }

    @Test
    void aPanicReportedOnPvpanicIsACrashAResetIsNotAndASignalledQemuIsNotASuccess() throws Exception {
        List<String> a = qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(), Path.of("/r"), true)).argv();
        assertTrue(valuesOf(a, "-device").contains("pvpanic"), a.toString());
        assertEquals("panic=shutdown", valueOf(a, "-action"));
        assertEquals(QemuHypervisor.GUEST_CRASHED, qemu.containerExitCode(0, Optional.of("guest-panic")));
        assertEquals(0, qemu.containerExitCode(0, Optional.of("guest-reset")), "urunit and unikernels end by resetting");
        assertEquals(0, qemu.containerExitCode(0, Optional.of("guest-shutdown")));
        assertEquals(0, qemu.containerExitCode(0, Optional.empty()));
        assertEquals(143, qemu.containerExitCode(0, Optional.of("host-signal")));
        assertEquals(5, qemu.containerExitCode(11, Optional.empty()), "isa-debug-exit 5");
        assertEquals(255, QemuHypervisor.GUEST_CRASHED);
        assertEquals(127, qemu.containerExitCode(255), "the largest isa-debug-exit code: 255 can only mean a crash");
    }

    @Test
    void heldPlansStartWithMinusS() throws Exception {
        LaunchPlan plan = qemu.plan(config(Accelerator.TCG, Optional.empty(), List.of(), Path.of("/r"), true));
        LaunchPlan held = qemu.holdGuest(plan);
        assertTrue(held.guestHeld());
        assertEquals("-S", held.argv().get(1));
        assertEquals(plan.argv().subList(1, plan.argv().size()), held.argv().subList(2, held.argv().size()));
    }
}
