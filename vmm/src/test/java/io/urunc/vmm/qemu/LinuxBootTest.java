package io.urunc.vmm.qemu;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.Hypervisors;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.UnikernelType;
import io.urunc.vmm.UnikernelTypes;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Boots the Debian cloud kernel on microvm/TCG with what the linux type and the QEMU adapter produce. */
class LinuxBootTest {
    @Test
    void guestSeesArgsEnvAndNetworkAndItsExitCodeBecomesTheContainers(@TempDir Path dir) throws Exception {
        Path kernel = TestGuest.kernel();
        Path initrd = TestGuest.initrd(dir, """
                #!/bin/busybox sh
                echo "ARGS[$1][$2] GREETING[$GREETING] IP[$ip]"
                /bin/guest-exit 7
                """);
        UnikernelType linux = UnikernelTypes.byName("linux");
        Hypervisor qemu = Hypervisors.byName("qemu");
        var guest = new GuestSpec(List.of("/init", "two words", "x"), Map.of("GREETING", "hello world"),
                Optional.of(new GuestNetwork("10.0.0.2", 24, "10.0.0.1", "02:00:00:00:00:01", List.of())), RootKind.INITRD, null);
        VmConfig config = new VmConfig("boot", QemuRealTest.QEMU, kernel, Optional.of(initrd), linux.kernelCmdline(guest, "qemu", Accelerator.TCG),
                new VmResources(256, 1), Accelerator.TCG, Optional.empty(), List.of(), linux.extraVmmArgs("qemu", guest), dir, true)
                .withHints(linux.deviceHints());
        LaunchPlan plan = qemu.plan(config);
        long t0 = System.nanoTime();
        try (RunningQemu q = new RunningQemu(plan.argv(), dir)) {
            int status = q.await(40);
            String out = q.output();
            assertTrue(out.contains("ARGS[two words][x] GREETING[hello world] IP[10.0.0.2::10.0.0.1:255.255.255.0:urunc:eth0:off]"), out);
            assertEquals(15, status, out);
            assertEquals(7, qemu.containerExitCode(status));
            System.out.printf("linux boot to exit on microvm/TCG: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** A panic reported on the pvpanic device is a crash; a power-off and a reboot are clean ends. */
    @Test
    void aKernelPanicIsACrashAndAPowerOffOrRebootIsACleanExit(@TempDir Path dir) throws Exception {
        String drivers = "/bin/busybox insmod /lib/pvpanic.ko; /bin/busybox insmod /lib/pvpanic-mmio.ko\n";
        Ended panic = boot(dir.resolve("panic"), drivers + "/bin/busybox mkdir -p /proc; /bin/busybox mount -t proc proc /proc; echo c > /proc/sysrq-trigger");
        assertEquals(Optional.of("guest-panic"), panic.reason(), panic.output());
        assertTrue(panic.output().contains("Kernel panic"), panic.output());
        assertEquals(QemuHypervisor.GUEST_CRASHED, panic.code());

        Ended off = boot(dir.resolve("poweroff"), drivers + "/bin/busybox poweroff -f");
        assertEquals(Optional.of("guest-shutdown"), off.reason(), off.output());
        assertEquals(0, off.code());

        Ended reboot = boot(dir.resolve("reboot"), drivers + "/bin/busybox reboot -f");
        assertEquals(Optional.of("guest-reset"), reboot.reason(), reboot.output());
        assertEquals(0, reboot.code(), "urunc's urunit ends a guest by rebooting it");
    }

    private record Ended(int code, Optional<String> reason, String output) {}

    private static Ended boot(Path dir, String script) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        Path initrd = TestGuest.initrd(dir, "#!/bin/busybox sh\n" + script + "\n", TestGuest.pvpanicModules());
        UnikernelType linux = UnikernelTypes.byName("linux");
        Hypervisor qemu = Hypervisors.byName("qemu");
        var guest = new GuestSpec(List.of("/init"), Map.of(), Optional.empty(), RootKind.INITRD, null);
        VmConfig config = new VmConfig("end", QemuRealTest.QEMU, TestGuest.kernel(), Optional.of(initrd), linux.kernelCmdline(guest, "qemu", Accelerator.TCG),
                new VmResources(256, 1), Accelerator.TCG, Optional.empty(), List.of(), List.of(), dir, true).withHints(linux.deviceHints());
        LaunchPlan plan = qemu.holdGuest(qemu.plan(config));
        try (RunningQemu q = new RunningQemu(plan.argv(), dir); var control = qemu.control(plan).orElseThrow()) {
            control.ping();
            control.resume();
            int status = q.await(60);
            Optional<String> reason = control.stopReason(java.time.Duration.ofSeconds(2));
            return new Ended(qemu.containerExitCode(status, reason), reason, q.output());
        }
    }
}
