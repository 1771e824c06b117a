package io.urunc.vmm.qemu;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.GuestDeviceHints;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.VmResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Runs the argv the adapter plans on this machine's QEMU (TCG). */
class QemuRealTest {
    static final Path QEMU = Path.of("qemu-system-x86_64");
    private final QemuHypervisor qemu = new QemuHypervisor();

    private static VmConfig fullConfig(Path dir, Path kernel, MachineKind machine) throws Exception {
        Path disk = dir.resolve("disk.raw");
        Files.write(disk, new byte[1 << 20]);
        // QEMU (root) creates this tap for the VM's lifetime and removes it when it exits.
        String tap = "uvt" + ProcessHandle.current().pid() % 100000 + machine.ordinal();
        return new VmConfig("test,vm", QEMU, kernel, Optional.empty(), "console=ttyS0", new VmResources(64, 1), Accelerator.TCG,
                Optional.of(new NetAttachment(tap, "02:00:00:aa:bb:cc")), List.of(new BlockDevice("rootfs", disk, true)), List.of(),
                dir, true).withHints(GuestDeviceHints.DEFAULT.withMachine(machine));
    }

    @ParameterizedTest
    @EnumSource(MachineKind.class)
    void everyPlannedOptionIsAcceptedAndKernelLoadErrorsAreSurfaced(MachineKind machine, @TempDir Path dir) throws Exception {
        Path bogus = dir.resolve("bogus-kernel");
        Files.writeString(bogus, "not a kernel\n".repeat(100));
        LaunchPlan plan = qemu.plan(fullConfig(dir, bogus, machine));
        try (RunningQemu q = new RunningQemu(plan.argv(), dir)) {
            int status = q.await(10);
            String out = q.output();
            assertEquals(1, status, out);
            assertEquals(1, qemu.containerExitCode(status));
            // Option, device and sandbox errors come before the kernel is loaded, so only the kernel may be complained about.
            assertTrue(out.toLowerCase().contains("kernel"), "QEMU's error should name the kernel problem: " + out);
            assertFalse(out.contains("Invalid parameter") || out.contains("not found") || out.contains("unsupported"), out);
        }
    }

    @Test
    void qmpPausesResumesAndPowersDownARealQemuThenQuits(@TempDir Path dir) throws Exception {
        LaunchPlan plan = qemu.plan(fullConfig(dir, Path.of("/unused"), MachineKind.MICROVM));
        List<String> argv = new ArrayList<>(plan.argv());
        int k = argv.indexOf("-kernel");
        argv.subList(k, k + 4).clear();            // -kernel K -append C: boot the machine's firmware instead
        argv.add("-S");                            // start paused: nothing runs, no timing races
        try (RunningQemu q = new RunningQemu(argv, dir); VmControl control = qemu.control(plan).orElseThrow()) {
            QmpClient qmp = (QmpClient) control;
            assertEquals("prelaunch", qmp.status());
            control.resume();
            assertEquals("running", qmp.status());
            control.pause();
            assertEquals("paused", qmp.status());
            control.resume();
            control.powerdown();
            assertTrue(qmp.eventNames().containsAll(List.of("RESUME", "STOP", "POWERDOWN")), qmp.eventNames().toString());
            var rejected = assertThrows(java.io.IOException.class, () -> qmp.execute("no-such-command"));
            assertTrue(rejected.getMessage().contains("CommandNotFound"), rejected.getMessage());
            control.quit();
            assertEquals(0, q.await(5), q.output());
            assertEquals(Optional.of("host-qmp-quit"), control.stopReason(java.time.Duration.ofSeconds(2)));
        }
    }

    @Test
    void aQemuStoppedBySomeoneElsesSignalIsNotReportedAsSuccess(@TempDir Path dir) throws Exception {
        LaunchPlan plan = qemu.plan(fullConfig(dir, Path.of("/unused"), MachineKind.MICROVM));
        List<String> argv = new ArrayList<>(plan.argv());
        int k = argv.indexOf("-kernel");
        argv.subList(k, k + 4).clear();
        argv.add("-S");
        try (RunningQemu q = new RunningQemu(argv, dir); VmControl control = qemu.control(plan).orElseThrow()) {
            control.ping();
            q.process.destroy();   // SIGTERM, as an operator's kill would send
            int status = q.await(5);
            Optional<String> reason = control.stopReason(java.time.Duration.ofSeconds(2));
            assertEquals(0, status, "QEMU exits 0 on SIGTERM: " + q.output());
            assertEquals(Optional.of("host-signal"), reason);
            assertEquals(QemuHypervisor.STOPPED_BY_SIGNAL, qemu.containerExitCode(status, reason));
        }
    }

    @Test
    void qmpConnectFailsClearlyWhenNoQemuListens(@TempDir Path dir) {
        QmpClient qmp = new QmpClient(dir.resolve("qmp.sock"), java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(1));
        var e = assertThrows(java.io.IOException.class, qmp::pause);
        assertTrue(e.getMessage().contains("cannot connect to QMP socket"), e.getMessage());
        qmp.close();
    }
}
