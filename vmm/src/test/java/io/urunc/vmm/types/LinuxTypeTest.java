package io.urunc.vmm.types;

import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.InvalidGuestSpecException;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.RootKind;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class LinuxTypeTest {
    private final LinuxType linux = new LinuxType();

    private String cmdline(List<String> args, Map<String, String> env, Optional<GuestNetwork> net, RootKind root) {
        return linux.kernelCmdline(new GuestSpec(args, env, net, root, null), "qemu");
    }

    @Test
    void initrdRootRunsTheProgramAsRdinitWithArgumentsAfterDashes() {
        assertEquals("console=ttyS0 panic=-1 reboot=t root=/dev/ram0 rw rdinit=/bin/app -- -x 1",
                cmdline(List.of("/bin/app", "-x", "1"), Map.of(), Optional.empty(), RootKind.INITRD));
    }

    @Test
    void eachRootKindGivesItsRootOption() {
        assertEquals("console=ttyS0 panic=-1 reboot=t root=/dev/vda rw init=/sbin/init", cmdline(List.of("/sbin/init"), Map.of(), Optional.empty(), RootKind.BLOCK));
        assertEquals("console=ttyS0 panic=-1 reboot=t root=fs0 rw rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=5000000,cache=mmap,posixacl init=/a",
                cmdline(List.of("/a"), Map.of(), Optional.empty(), RootKind.SHARED_9P));
        assertEquals("console=ttyS0 panic=-1 reboot=t root=fs0 rw rootfstype=virtiofs init=/a", cmdline(List.of("/a"), Map.of(), Optional.empty(), RootKind.VIRTIOFS));
        assertEquals("console=ttyS0 panic=-1 reboot=t init=/a", cmdline(List.of("/a"), Map.of(), Optional.empty(), RootKind.NONE));
        assertEquals("console=ttyS0 panic=-1 reboot=t root=/dev/vda rw", cmdline(List.of(), Map.of(), Optional.empty(), RootKind.BLOCK), "no args: kernel's default init");
    }

    @Test
    void networkUsesKernelIpSyntaxWithNetmaskGatewayAndUpToTwoResolvers() {
        var net = new GuestNetwork("10.4.0.5", 16, "10.4.0.1", "02:00:00:00:00:01", List.of("1.1.1.1", "8.8.8.8", "9.9.9.9"));
        assertEquals("console=ttyS0 panic=-1 reboot=t root=/dev/vda rw ip=10.4.0.5::10.4.0.1:255.255.0.0:urunc:eth0:off:1.1.1.1:8.8.8.8 init=/a",
                cmdline(List.of("/a"), Map.of(), Optional.of(net), RootKind.BLOCK));
        var noGw = new GuestNetwork("192.168.1.2", 24, null, "02:00:00:00:00:01", List.of());
        assertTrue(cmdline(List.of("/a"), Map.of(), Optional.of(noGw), RootKind.NONE).contains(" ip=192.168.1.2:::255.255.255.0:urunc:eth0:off "));
    }

    @Test
    void envAndArgumentsWithSpacesAreDoubleQuotedEmptyArgumentsKept() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/bin:/usr/bin");
        env.put("GREETING", "hello world");
        env.put("EMPTY", "");
        assertEquals("console=ttyS0 panic=-1 reboot=t root=/dev/ram0 rw PATH=/bin:/usr/bin GREETING=\"hello world\" EMPTY=\"\" rdinit=/bin/sh -- -c \"echo a=b  c\" \"\"",
                cmdline(List.of("/bin/sh", "-c", "echo a=b  c", ""), env, Optional.empty(), RootKind.INITRD));
    }

    @Test
    void charactersTheKernelCannotCarryAreRejectedNamingTheProblem() {
        var quote = assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/a", "say \"hi\""), Map.of(), Optional.empty(), RootKind.NONE));
        assertTrue(quote.getMessage().contains("argument 1") && quote.getMessage().contains("double quote"), quote.getMessage());
        var newline = assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/a", "x\ny"), Map.of(), Optional.empty(), RootKind.NONE));
        assertTrue(newline.getMessage().contains("control character") && newline.getMessage().contains("x\\ny"), newline.getMessage());
        var envName = assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/a"), Map.of("my.var", "1"), Optional.empty(), RootKind.NONE));
        assertTrue(envName.getMessage().contains("my.var"), envName.getMessage());
        var envValue = assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/a"), Map.of("V", "a\"b"), Optional.empty(), RootKind.NONE));
        assertTrue(envValue.getMessage().contains("environment variable V"), envValue.getMessage());
        var init = assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/my app"), Map.of(), Optional.empty(), RootKind.NONE));
        assertTrue(init.getMessage().contains("init program"), init.getMessage());
    }

    @Test
    void kernelLimitsOnLengthArgumentsAndVariablesAreEnforced() {
        var tooLong = assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/a", "x".repeat(2100)), Map.of(), Optional.empty(), RootKind.NONE));
        assertTrue(tooLong.getMessage().contains("2047"), tooLong.getMessage());
        List<String> many = new java.util.ArrayList<>(List.of("/a"));
        for (int i = 0; i < 32; i++) many.add("a" + i);
        assertThrows(InvalidGuestSpecException.class, () -> cmdline(many, Map.of(), Optional.empty(), RootKind.NONE));
        cmdline(many.subList(0, 32), Map.of(), Optional.empty(), RootKind.NONE);
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 0; i < 31; i++) env.put("V" + i, "1");
        assertThrows(InvalidGuestSpecException.class, () -> cmdline(List.of("/a"), env, Optional.empty(), RootKind.NONE));
    }

    @Test
    void underTcgOnQemuTheHostTscFrequencyIsGivenBeforeTheInitArguments() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.urunc.vmm.HostClock.tscKhz().isPresent(), "host TSC frequency unknown");
        long khz = io.urunc.vmm.HostClock.tscKhz().getAsLong();
        var spec = new GuestSpec(List.of("/init", "a"), Map.of(), Optional.empty(), RootKind.INITRD, null);
        assertEquals("console=ttyS0 panic=-1 reboot=t tsc_early_khz=" + khz + " root=/dev/ram0 rw rdinit=/init -- a",
                linux.kernelCmdline(spec, "qemu", io.urunc.vmm.Accelerator.TCG));
        assertEquals(linux.kernelCmdline(spec, "qemu"), linux.kernelCmdline(spec, "qemu", io.urunc.vmm.Accelerator.KVM));
        assertEquals(linux.kernelCmdline(spec, "firecracker"), linux.kernelCmdline(spec, "firecracker", io.urunc.vmm.Accelerator.TCG));
    }

    @Test
    void runsOnQemuAndFirecrackerPreferringMicrovm() {
        assertEquals(java.util.Set.of("qemu", "firecracker", "cloud-hypervisor"), linux.hypervisors());
        assertEquals(MachineKind.MICROVM, linux.preferredMachine());
        assertEquals(MachineKind.MICROVM, linux.deviceHints().machine());
    }

    @Test
    void volumesAreUruncMountWordsBeforeTheProgramQuotedWhenTheTargetHasSpaces() {
        var mounts = List.of(new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.VIRTIOFS, "vol0", "/data", false),
                new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.VIRTIOFS, "vol1", "/etc/my app", true),
                new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.BLOCK, "blk0", "/srv:x", false));
        assertEquals("console=ttyS0 panic=-1 reboot=t root=/dev/ram0 rw urunc.mount=virtiofs:vol0:rw:/data "
                        + "\"urunc.mount=virtiofs:vol1:ro:/etc/my app\" urunc.mount=blk:blk0:rw:/srv:x rdinit=/app",
                linux.kernelCmdline(new GuestSpec(List.of("/app"), Map.of(), Optional.empty(), RootKind.INITRD, null, mounts), "qemu"));
    }

    @Test
    void aMountTargetWithAQuoteOrNewlineCannotBeCarried() {
        for (String bad : List.of("/a\"b", "/a\nb")) {
            var m = List.of(new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.VIRTIOFS, "vol0", bad, false));
            var e = assertThrows(InvalidGuestSpecException.class,
                    () -> linux.kernelCmdline(new GuestSpec(List.of("/app"), Map.of(), Optional.empty(), RootKind.INITRD, null, m), "qemu"));
            assertTrue(e.getMessage().startsWith("mount target " + bad.substring(0, 2)), e.getMessage());
        }
        assertThrows(InvalidGuestSpecException.class, () -> new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.VIRTIOFS, "vol0", "data", false));
    }
}
